import { feedbackEffects, rowKey, type Disposition } from '../../domain/feedback-effects.js';
import type { FeedbackEvent, ParsedFeedback } from '../../domain/feedback.js';
import type { DatabaseHandle, SqlExecutor } from '../../db/client.js';
import {
  applyCounterDeltas,
  insertProviderEvents,
  ledgerRowsFor,
  lockDeploymentIds,
  orphansToRetry,
  setDispositions,
  writeLedgerChanges,
  type NewProviderEvent,
} from '../../db/queries/feedback.js';
import type { Logger } from '../../lib/logger.js';
import { parseDeliveryTag } from '../../mail/message.js';

/**
 * Stores and counts provider feedback. Requests that arrive while a transaction is committing are
 * gathered into the next one (group commit), so a burst of single-event SNS posts costs a few
 * transactions, not one each. A request's promise settles only when its events are committed:
 * the webhook answers 200 after that, and 5xx (the provider retries) if the commit failed.
 * Deduplication is by (provider, event id) in Postgres, so a retry or a replay counts nothing twice.
 */
export interface FeedbackIngestor {
  ingest(parsed: ParsedFeedback): Promise<IngestSummary>;
  /** Applies orphans whose ledger rows have settled since they arrived. */
  retryOrphans(limit?: number): Promise<number>;
  /** Resolves when nothing is waiting or committing. */
  drain(): Promise<void>;
}

export interface IngestSummary {
  received: number;
  duplicates: number;
  dispositions: Record<Disposition | 'quarantined', number>;
}

const MAX_EVENTS_PER_TRANSACTION = 5000;

function target(event: FeedbackEvent) {
  return parseDeliveryTag(event.deliveryTag ?? '') ?? parseDeliveryTag(event.messageId ?? '');
}

function revive(payload: Record<string, unknown>): FeedbackEvent {
  const event = { ...payload } as unknown as FeedbackEvent;
  if (typeof payload.occurredAt === 'string') event.occurredAt = new Date(payload.occurredAt);
  return event;
}

/** Applies matched events to the ledger and the books; returns each event's disposition. */
async function applyToLedger(sql: SqlExecutor, events: FeedbackEvent[]): Promise<Disposition[]> {
  const targets = events.map(target);
  const keys = targets.filter((t) => t !== undefined);
  await lockDeploymentIds(sql, [...new Set(keys.map((k) => k.deploymentId))]);
  const rows = new Map((await ledgerRowsFor(sql, keys)).map((r) => [rowKey(r.deploymentId, r.seq), r]));
  const effects = feedbackEffects(events, targets, rows);
  await writeLedgerChanges(sql, effects.rows);
  const touched = [...new Set([...rows.values()].map((r) => r.deploymentId))];
  await applyCounterDeltas(sql, effects.deployments, effects.batches, touched);
  return effects.dispositions;
}

export function createFeedbackIngestor(deps: { database: DatabaseHandle; logger: Logger }): FeedbackIngestor {
  const { sql } = deps.database;
  type Waiting = { parsed: ParsedFeedback; resolve: (s: IngestSummary) => void; reject: (e: unknown) => void };
  const waiting: Waiting[] = [];
  let committing: Promise<void> | undefined;

  async function commit(group: Waiting[]): Promise<IngestSummary[]> {
    return sql.begin(async (tx) => {
      const rows: NewProviderEvent[] = [];
      const owners: { request: number; event?: FeedbackEvent; quarantined: boolean }[] = [];
      group.forEach(({ parsed }, request) => {
        for (const event of parsed.events) {
          const t = target(event);
          rows.push({
            provider: event.provider,
            eventId: event.eventId,
            type: event.kind,
            subtype: event.bounceClass ? `${event.bounceClass}${event.subtype ? `:${event.subtype}` : ''}` : (event.subtype ?? null),
            deploymentId: t?.deploymentId ?? null,
            seq: t?.seq ?? null,
            messageId: event.messageId ?? null,
            recipient: event.recipient ?? null,
            // Decided now when the ledger has no say in it; the rest after the ledger is read.
            disposition: event.kind === 'other' ? 'ignored' : t ? 'pending' : 'orphan',
            occurredAt: event.occurredAt ?? null,
            payload: JSON.stringify(event),
          });
          owners.push({ request, event, quarantined: false });
        }
        for (const q of parsed.quarantined) {
          rows.push({ provider: q.provider, eventId: q.eventId, type: 'unparsed', subtype: null, deploymentId: null, seq: null, messageId: null, recipient: null, disposition: 'quarantined', occurredAt: null, payload: JSON.stringify({ reason: q.reason, raw: q.raw }) });
          owners.push({ request, quarantined: true });
        }
      });

      const inserted = await insertProviderEvents(tx, rows);
      const summaries: IngestSummary[] = group.map(({ parsed }) => ({
        received: parsed.events.length + parsed.quarantined.length,
        duplicates: 0,
        dispositions: { counted: 0, recorded: 0, orphan: 0, ignored: 0, quarantined: 0 },
      }));
      const pendingIds: number[] = [];
      const pendingEvents: FeedbackEvent[] = [];
      const pendingOwners: number[] = [];
      const seen = new Set<string>();
      rows.forEach((row, i) => {
        const key = `${row.provider}\n${row.eventId}`;
        const id = inserted.get(key);
        const summary = summaries[owners[i]!.request]!;
        // Not inserted (already stored), or the same event twice in this very group.
        if (id === undefined || seen.has(key)) {
          summary.duplicates += 1;
          return;
        }
        seen.add(key);
        if (row.disposition === 'pending') {
          pendingIds.push(id);
          pendingEvents.push(owners[i]!.event!);
          pendingOwners.push(owners[i]!.request);
        } else {
          summary.dispositions[row.disposition] += 1;
        }
      });

      const decided = await applyToLedger(tx, pendingEvents);
      await setDispositions(tx, pendingIds, decided);
      decided.forEach((d, i) => (summaries[pendingOwners[i]!]!.dispositions[d] += 1));
      return summaries;
    }) as Promise<IngestSummary[]>;
  }

  async function flush(): Promise<void> {
    while (waiting.length > 0) {
      const group: Waiting[] = [];
      let size = 0;
      while (waiting.length > 0 && (group.length === 0 || size + waiting[0]!.parsed.events.length <= MAX_EVENTS_PER_TRANSACTION)) {
        const next = waiting.shift()!;
        size += next.parsed.events.length + next.parsed.quarantined.length;
        group.push(next);
      }
      try {
        const summaries = await commit(group);
        group.forEach((w, i) => w.resolve(summaries[i]!));
      } catch (error) {
        deps.logger.warn({ err: error, requests: group.length }, 'could not store provider feedback; the provider will retry');
        group.forEach((w) => w.reject(error));
      }
    }
  }

  function schedule() {
    if (committing) return;
    committing = flush().finally(() => {
      committing = undefined;
      if (waiting.length > 0) schedule();
    });
  }

  return {
    ingest(parsed) {
      if (parsed.events.length === 0 && parsed.quarantined.length === 0) {
        return Promise.resolve({ received: 0, duplicates: 0, dispositions: { counted: 0, recorded: 0, orphan: 0, ignored: 0, quarantined: 0 } });
      }
      return new Promise<IngestSummary>((resolve, reject) => {
        waiting.push({ parsed, resolve, reject });
        schedule();
      });
    },

    async retryOrphans(limit = 500) {
      const orphans = await orphansToRetry(sql, limit);
      if (orphans.length === 0) return 0;
      const decided = await sql.begin(async (tx) => {
        const dispositions = await applyToLedger(tx, orphans.map((o) => revive(o.payload)));
        await setDispositions(tx, orphans.map((o) => Number(o.id)), dispositions);
        return dispositions;
      });
      return (decided as Disposition[]).filter((d) => d !== 'orphan').length;
    },

    async drain() {
      while (committing || waiting.length > 0) await committing;
    },
  };
}
