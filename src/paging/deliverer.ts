import type postgres from 'postgres';
import { claimDuePagerOutbox, failPagerRow, markPagerDelivered, pagerRowBlocker, reschedulePagerRow, type PagerOutboxRow } from '../db/queries/pager-outbox.js';
import { loadAlertView } from '../db/queries/slack-outbox.js';
import { OUTBOX_STATUS } from '../domain/outbox-states.js';
import type { PagerAction, PagerDestination } from '../domain/pager-events.js';
import type { Logger } from '../lib/logger.js';
import { createOutboxWorker } from '../lib/outbox-worker.js';
import { insist } from '../lib/poll-loop.js';
import { describePagerEvent, type EventLinks, type PagerEvent } from './event.js';
import type { SendOutcome } from './http.js';

/**
 * Delivers the pager outbox (PagerDuty, the alert webhook), independent of Slack. Rows are claimed
 * with a lease (FOR UPDATE SKIP LOCKED), so two deliverers never send the same row; the events of
 * one alert go to one destination in order (a row waits while an older one is pending, and an
 * acknowledge or resolve whose trigger failed for good fails with it); 429 waits for Retry-After,
 * 5xx, timeouts and network errors back off exponentially up to a cap; a refused event (400) fails
 * for good with an error log naming the row. An event the pager accepted whose delivery cannot be
 * recorded (Postgres away) is remembered and recorded once Postgres answers, before anything else
 * is claimed; this deliverer never sends it again.
 */
export interface PagerSender {
  destination: PagerDestination;
  send(event: PagerEvent): Promise<SendOutcome>;
}

export interface PagerDelivererOptions {
  sql: postgres.Sql;
  senders: PagerSender[];
  links: EventLinks;
  logger: Logger;
  /** Each event settled: delivered, or failed for good. */
  onSettled?: (destination: PagerDestination, action: PagerAction, outcome: 'delivered' | 'failed') => void;
  pollMs?: number;
  leaseSeconds?: number;
  /** Transient failures before a row fails for good (with the default backoff, about 4 hours). */
  maxAttempts?: number;
  backoffBaseSeconds?: number;
  backoffCapSeconds?: number;
  batchSize?: number;
}

export function createPagerDeliverer(options: PagerDelivererOptions) {
  const { sql } = options;
  const log = options.logger.child({ component: 'pager-deliverer' });
  const senders = new Map(options.senders.map((s) => [s.destination, s]));
  const destinations = [...senders.keys()];
  const pollMs = options.pollMs ?? 1000;
  const leaseSeconds = options.leaseSeconds ?? 60;
  const maxAttempts = options.maxAttempts ?? 60;
  const backoffBase = options.backoffBaseSeconds ?? 1;
  const backoffCap = options.backoffCapSeconds ?? 300;
  const batchSize = options.batchSize ?? 20;
  const settled = (row: PagerOutboxRow, outcome: 'delivered' | 'failed') => options.onSettled?.(row.destination, row.action, outcome);


  async function fail(row: PagerOutboxRow, why: string): Promise<void> {
    log.error({ outboxId: row.id, dedupeKey: row.dedupe_key, alertId: row.alert_id, destination: row.destination, action: row.action, why }, 'pager event failed for good');
    await failPagerRow(sql, row.id, why);
    settled(row, 'failed');
  }

  async function deliver(row: PagerOutboxRow): Promise<void> {
    const blocker = await pagerRowBlocker(sql, row);
    // Tried again right after the row it waits for is (that one may be backing off), and at least
    // every few seconds (it may be in flight at another deliverer, leased for longer than it takes).
    if (blocker?.status === OUTBOX_STATUS.pending) return reschedulePagerRow(sql, row.id, Math.min(5, Math.max(0.2, blocker.due_in_seconds + 0.1)), null, false);
    if (blocker) return fail(row, `its trigger (outbox row ${blocker.id}) failed for good: ${blocker.last_error ?? 'unknown error'}`);
    const view = await loadAlertView(sql, row.alert_id);
    if (!view) return fail(row, 'alert not found');
    const event = describePagerEvent(row, view, options.links);
    const outcome = await senders.get(row.destination)!.send(event);
    if (outcome.kind === 'delivered') {
      try {
        // The pager has the event: losing this write would send it again, so insist a little.
        await insist(() => markPagerDelivered(sql, row.id));
        settled(row, 'delivered');
        log.info({ outboxId: row.id, alertId: row.alert_id, destination: row.destination, action: row.action }, 'pager event delivered');
      } catch (error) {
        // Sending it again would page twice: remember it, and record it once Postgres answers.
        worker.remember(row.id, row);
        log.warn({ err: error, outboxId: row.id }, 'the pager has the event but its delivery cannot be recorded yet; will record it, not resend it');
      }
      return;
    }
    if (outcome.kind === 'rejected') return fail(row, outcome.detail);
    if (row.attempts >= maxAttempts) return fail(row, `gave up after ${row.attempts} attempts: ${outcome.detail}`);
    const backoff = Math.min(backoffCap, backoffBase * 2 ** Math.min(row.attempts - 1, 20));
    const delay = Math.max(backoff, outcome.retryAfterSeconds ?? 0);
    log.warn({ outboxId: row.id, destination: row.destination, action: row.action, detail: outcome.detail, attempts: row.attempts, retryInSeconds: delay }, 'pager event not delivered; will retry');
    await reschedulePagerRow(sql, row.id, delay, outcome.detail, true);
  }

  const worker = createOutboxWorker({
    name: 'pager',
    logger: log,
    pollMs,
    claim: () => claimDuePagerOutbox(sql, destinations, batchSize, leaseSeconds),
    deliver,
    record: (id) => markPagerDelivered(sql, id),
    recorded: (_id, row: PagerOutboxRow) => settled(row, 'delivered'),
    describe: (row) => ({ dedupeKey: row.dedupe_key }),
  });
  return { runOnce: worker.runOnce, start: worker.start, kick: worker.kick, stop: worker.stop, unrecordedCount: worker.unrecordedCount };
}

export type PagerDeliverer = ReturnType<typeof createPagerDeliverer>;
