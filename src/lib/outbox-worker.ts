import type { Logger } from './logger.js';
import { createPollLoop } from './poll-loop.js';

/**
 * What the Slack notifier and the pager deliverer share: claim due rows (leased), deliver them in
 * order, and keep the deliveries the outside system has but Postgres could not record yet. Those
 * are recorded before anything else is claimed (their leases would otherwise hand them out again,
 * and they would be sent twice); until then this worker never sends them again.
 */
export interface OutboxWorkerOptions<Row extends { id: number }, Done> {
  /** Names the outbox in log lines: "slack", "pager". */
  name: string;
  logger: Logger;
  pollMs: number;
  claim(): Promise<Row[]>;
  deliver(row: Row): Promise<void>;
  /** Records a delivery the outside system already has. */
  record(id: number, done: Done): Promise<void>;
  /** A delayed delivery was recorded. */
  recorded?(id: number, done: Done): void;
  /** Log fields naming what was delivered, for the operator. */
  describe(done: Done): Record<string, unknown>;
}

export function createOutboxWorker<Row extends { id: number }, Done>(options: OutboxWorkerOptions<Row, Done>) {
  const { logger: log, name } = options;
  const unrecorded = new Map<number, Done>();

  /** Records what the outside system already has; false while Postgres cannot take it. */
  async function recordUnrecorded(): Promise<boolean> {
    for (const [id, done] of unrecorded) {
      try {
        await options.record(id, done);
        unrecorded.delete(id);
        options.recorded?.(id, done);
        log.info({ outboxId: id, ...options.describe(done) }, `${name} delivery recorded after a delay`);
      } catch {
        return false;
      }
    }
    return true;
  }

  /** One pass: claims due rows and delivers them in order; returns how many were claimed. */
  async function runOnce(): Promise<number> {
    if (!(await recordUnrecorded())) return 0;
    const rows = await options.claim();
    for (const row of rows) {
      try {
        await options.deliver(row);
      } catch (error) {
        // The lease runs out and the row is tried again.
        log.error({ err: error, outboxId: row.id }, `${name} outbox row could not be handled`);
      }
    }
    return rows.length;
  }

  const loop = createPollLoop(runOnce, { pollMs: options.pollMs, logger: log, failure: `${name} outbox poll failed` });
  return {
    runOnce,
    start: loop.start,
    /** Something was just written: look now rather than at the next poll. */
    kick: loop.kick,
    async stop() {
      await loop.stop();
      if (!(await recordUnrecorded())) {
        // Their leases will run out and they would be sent again: say which, for the operator.
        log.error({ outboxIds: [...unrecorded.keys()], delivered: [...unrecorded.values()].map(options.describe) }, `stopping with ${name} deliveries made but not recorded`);
      }
    },
    /** The outside system has this row's delivery, but it could not be recorded: record it later, never resend it. */
    remember(id: number, done: Done) {
      unrecorded.set(id, done);
    },
    /** Deliveries made whose delivery is not recorded yet. */
    unrecordedCount: () => unrecorded.size,
  };
}
