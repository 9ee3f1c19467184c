import type { DeliveryStatus } from './deliveries.js';
import type { FeedbackEvent } from './feedback.js';

/**
 * What provider feedback does to the ledger. One recipient has one state, so a delivery followed
 * by a bounce ends bounced and counts once; a retried or duplicated event finds nothing left to
 * change. Pure: the ingestion service reads the rows, asks this, and writes the answer.
 */
/** A ledger row's status, as feedback sees it: the delivery statuses of domain/deliveries. */
export type LedgerStatus = DeliveryStatus;

export interface LedgerRow {
  deploymentId: string;
  seq: number;
  batchId: string;
  status: LedgerStatus;
  complained: boolean;
}

/**
 * counted: it changed the books. recorded: matched, nothing to change (already bounced, a soft
 * bounce, a deferral, excluded from the rate). orphan: its message is not settled in our ledger yet
 * (or is not ours); kept, and applied when the row settles. ignored: opens, clicks and the like.
 */
export type Disposition = 'counted' | 'recorded' | 'orphan' | 'ignored';

export interface RowChange {
  deploymentId: string;
  seq: number;
  status: LedgerStatus;
  complained: boolean;
  detail: string | null;
}

export interface CounterDelta {
  sent: number;
  bounced: number;
  unknown: number;
  complaints: number;
}

export interface FeedbackEffects {
  dispositions: Disposition[];
  rows: RowChange[];
  /** Keyed by deployment id. */
  deployments: Map<string, CounterDelta>;
  /** Keyed by batch id. */
  batches: Map<string, CounterDelta & { deploymentId: string }>;
}

const ACCEPTED: LedgerStatus[] = ['sent', 'unknown'];

const zero = (): CounterDelta => ({ sent: 0, bounced: 0, unknown: 0, complaints: 0 });

export const rowKey = (deploymentId: string, seq: number) => `${deploymentId}#${seq}`;

/**
 * `events[i]` is matched to `targets[i]` (undefined when its message id is not one of ours);
 * `rows` holds the ledger rows found for the targets, by `rowKey`.
 */
export function feedbackEffects(events: FeedbackEvent[], targets: ({ deploymentId: string; seq: number } | undefined)[], rows: Map<string, LedgerRow>): FeedbackEffects {
  const state = new Map<string, LedgerRow>();
  const changed = new Map<string, RowChange>();
  const deployments = new Map<string, CounterDelta>();
  const batches = new Map<string, CounterDelta & { deploymentId: string }>();

  const delta = (row: LedgerRow) => {
    if (!deployments.has(row.deploymentId)) deployments.set(row.deploymentId, zero());
    if (!batches.has(row.batchId)) batches.set(row.batchId, { ...zero(), deploymentId: row.deploymentId });
    return [deployments.get(row.deploymentId)!, batches.get(row.batchId)!];
  };
  const move = (row: LedgerRow, to: 'sent' | 'bounced') => {
    for (const d of delta(row)) {
      if (row.status === 'sent' || row.status === 'unknown') d[row.status] -= 1;
      d[to] += 1;
    }
    row.status = to;
  };

  const dispositions = events.map((event, i): Disposition => {
    if (event.kind === 'other') return 'ignored';
    const target = targets[i];
    if (!target) return 'orphan';
    const key = rowKey(target.deploymentId, target.seq);
    const found = state.get(key) ?? rows.get(key);
    if (!found) return 'orphan';
    const row = state.get(key) ?? { ...found };
    state.set(key, row);
    // Not settled yet (the provider answered before our own record of the send committed).
    if (row.status === 'claimed') return 'orphan';
    const before = `${row.status}/${row.complained}`;
    let detail: string | null = null;

    switch (event.kind) {
      case 'delivery':
        // Proof of acceptance: a message lost on our side of the wire was in fact delivered.
        if (row.status === 'unknown') move(row, 'sent');
        break;
      case 'bounce':
        if (event.bounceClass === 'hard' && event.countsTowardRate && ACCEPTED.includes(row.status)) {
          move(row, 'bounced');
          detail = event.detail ?? null;
        }
        break;
      case 'complaint':
        if (row.status === 'unknown') move(row, 'sent');
        if (!row.complained && ['sent', 'bounced'].includes(row.status)) {
          row.complained = true;
          for (const d of delta(row)) d.complaints += 1;
        }
        break;
      case 'deferral':
        break;
    }
    if (`${row.status}/${row.complained}` === before) return 'recorded';
    const previous = changed.get(key);
    changed.set(key, { deploymentId: row.deploymentId, seq: row.seq, status: row.status, complained: row.complained, detail: detail ?? previous?.detail ?? null });
    return 'counted';
  });

  return { dispositions, rows: [...changed.values()], deployments, batches };
}
