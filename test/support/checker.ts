import type { SmtpSink } from '../../src/mail/sink.js';
import type { TestDatabase } from './database.js';

/**
 * The reliability suite's judge: compares what the ledger says with what the SMTP sink received,
 * recipient by recipient, and reports the figures every fault test is held to.
 *
 * - duplicates: recipients the sink received more than once (a message sent twice)
 * - lost: recipients the ledger calls `sent` that the sink never received, and recipients left
 *   `pending`/`claimed` once the send is over (work dropped)
 * - phantom: recipients the sink received that the ledger says were never sent (`pending`,
 *   `cancelled`, `failed`, or bounced at RCPT; a bounce the provider reported after a 250 is not)
 * - unknown: the ledger's `unknown` (lost on the wire: counted, never resent)
 * - late: messages the sink received more than `graceMs` after a stop (cancel or pause) committed
 */
export interface LedgerCheck {
  total: number;
  byStatus: Record<string, number>;
  duplicates: number;
  lost: number;
  phantom: number;
  unknown: number;
  late: number;
  /** The books (deployment counters) equal the ledger's own counts. */
  booksMatch: boolean;
}

export async function checkLedger(
  db: Pick<TestDatabase, 'sql'>,
  deploymentId: string,
  sink: SmtpSink,
  options: { stoppedAt?: number; graceMs?: number; finished?: boolean } = {},
): Promise<LedgerCheck> {
  const rows = await db.sql<{ seq: number; status: string; smtp_code: number | null }[]>`select seq, status, smtp_code from deliveries where deployment_id = ${deploymentId}`;
  const copies = new Map<number, number>();
  for (const [tag, n] of sink.byDelivery) {
    if (tag.startsWith(`${deploymentId}.`)) copies.set(Number(tag.slice(deploymentId.length + 1)), n);
  }
  const byStatus: Record<string, number> = {};
  let duplicates = 0;
  let lost = 0;
  let phantom = 0;
  const finished = options.finished ?? true;
  for (const row of rows) {
    byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
    const n = copies.get(row.seq) ?? 0;
    if (n > 1) duplicates++;
    if (row.status === 'sent' && n === 0) lost++;
    if (finished && (row.status === 'pending' || row.status === 'claimed')) lost++;
    // A message the server accepted (2xx) may bounce later, reported by the provider: received, and bounced.
    const bouncedLater = row.status === 'bounced' && row.smtp_code !== null && row.smtp_code < 300;
    if (n > 0 && ['pending', 'cancelled', 'failed', 'bounced'].includes(row.status) && !bouncedLater) phantom++;
  }
  const known = new Set(rows.map((r) => r.seq));
  for (const seq of copies.keys()) if (!known.has(seq)) phantom++;

  let late = 0;
  if (options.stoppedAt !== undefined) {
    const limit = options.stoppedAt + (options.graceMs ?? 1000);
    late = sink.received.filter((m) => m.delivery?.startsWith(`${deploymentId}.`) && m.at > limit).length;
  }

  const [d] = await db.sql<Record<string, number>[]>`
    select sent_count, bounced_count, failed_count, unknown_count, cancelled_count, in_flight_count from deployments where id = ${deploymentId}`;
  const booksMatch =
    d!.sent_count === (byStatus.sent ?? 0) &&
    d!.bounced_count === (byStatus.bounced ?? 0) &&
    d!.failed_count === (byStatus.failed ?? 0) &&
    d!.unknown_count === (byStatus.unknown ?? 0) &&
    d!.in_flight_count === (byStatus.claimed ?? 0);

  return { total: rows.length, byStatus, duplicates, lost, phantom, unknown: byStatus.unknown ?? 0, late, booksMatch };
}
