import type { DeliveryCounts } from './counts.js';

/**
 * What a cancel (or pause, or resume) came to, as a value: the CLI and Slack render the same
 * outcome with the same words (`describeOutcome`), so a responder reads one story everywhere.
 */
export interface CancelCounts {
  /** Messages already handed over and answered: sent, bounced, failed or unknown. */
  contacted: number;
  /** Handed over, not answered yet: they cannot be recalled. */
  inFlight: number;
  /** Will never be sent. */
  neverSent: number;
}

export type ControlOutcome =
  | { outcome: 'cancelled'; target: string; deploymentIds: string[]; counts: CancelCounts; at: Date; lockOverride?: { holder: string; since: Date | null } }
  /** Everything left was already in flight: nothing to stop, the deployment completes. */
  | { outcome: 'nothing_left'; target: string; counts: CancelCounts }
  | { outcome: 'paused' | 'resumed'; target: string; deploymentIds: string[]; relayFault?: true }
  | { outcome: 'already_cancelled'; target: string; by: string | null; at: Date | null }
  | { outcome: 'already_completed'; target: string; counts: CancelCounts }
  | { outcome: 'not_permitted'; target: string; why: string }
  | { outcome: 'not_allowed'; target: string; status: string; why: string }
  | { outcome: 'not_found'; target: string };

export function countsAtCommit(c: Pick<DeliveryCounts, 'total' | 'inFlight' | 'sent' | 'bounced' | 'failed' | 'unknown' | 'cancelled'>): CancelCounts {
  const contacted = c.sent + c.bounced + c.failed + c.unknown;
  return { contacted, inFlight: c.inFlight, neverSent: Math.max(0, c.total - contacted - c.inFlight) };
}

export function addCounts(all: CancelCounts[]): CancelCounts {
  return all.reduce((a, b) => ({ contacted: a.contacted + b.contacted, inFlight: a.inFlight + b.inFlight, neverSent: a.neverSent + b.neverSent }), {
    contacted: 0,
    inFlight: 0,
    neverSent: 0,
  });
}

const n = (value: number) => value.toLocaleString('en-US');
const when = (date: Date | null) => (date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : 'an unknown time');

/** One or two sentences; user-supplied parts (names) must be escaped by the adapter that shows them. */
export function describeOutcome(o: ControlOutcome): string {
  switch (o.outcome) {
    case 'cancelled': {
      const override = o.lockOverride ? ` The edit lock held by ${o.lockOverride.holder} was overridden.` : '';
      return (
        `Cancelled ${o.target}: ${n(o.counts.contacted)} already sent, ${n(o.counts.inFlight)} in flight (cannot be recalled), ` +
        `${n(o.counts.neverSent)} will never be sent. This cannot be undone; the campaign cannot be restarted.${override}`
      );
    }
    case 'nothing_left':
      return `Nothing left to stop in ${o.target}: every remaining message was already in flight (${n(o.counts.inFlight)}). It will complete; ${n(o.counts.contacted)} sent so far.`;
    case 'paused':
      return `Paused ${o.target}. Nothing more is handed over until it is resumed.`;
    case 'resumed':
      if (o.relayFault) {
        return o.deploymentIds.length === 0
          ? `Closed relay fault ${o.target}: nothing it paused was still paused.`
          : `Resumed relay fault ${o.target}: ${o.deploymentIds.join(', ')} continue where they stopped. If the relay still fails, they are paused again.`;
      }
      return `Resumed ${o.target}: sending continues where it stopped.`;
    case 'already_cancelled':
      return `${o.target} was already cancelled by ${o.by ?? 'someone'} at ${when(o.at)}. Cancelled is final.`;
    case 'already_completed':
      return `${o.target} has already completed: ${n(o.counts.contacted)} sent. Sent is final; there is nothing to cancel.`;
    case 'not_permitted':
      return `Not permitted: ${o.why}`;
    case 'not_allowed':
      return `Not possible while ${o.target} is ${o.status}: ${o.why}`;
    case 'not_found':
      return `No campaign, deployment or batch matches ${o.target}.`;
  }
}
