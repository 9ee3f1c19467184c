import type postgres from 'postgres';
import {
  claimDueOutbox,
  failOutbox,
  loadAlertView,
  markOutboxDelivered,
  newerPendingEdit,
  olderPendingForAlert,
  rescheduleOutbox,
  supersedeOutbox,
  type OutboxRow,
} from '../db/queries/slack-outbox.js';
import { loadRelayFaultView } from '../db/queries/relay-faults.js';
import type { Logger } from '../lib/logger.js';
import { renderAlert, type RenderedMessage } from './blocks/alert.js';
import { renderDeploymentFault, type DeploymentFaultPayload } from './blocks/fault.js';
import { renderRelayFault } from './blocks/relay-fault.js';
import { renderOnCallReply } from './blocks/on-call.js';
import type { OnCallReplyPayload } from '../db/queries/on-call.js';
import { createAlertExtras, type AlertMessageSettings } from './alert-extras.js';
import { renderCancelConfirmation, renderCancelSettled, type CancelConfirmationPayload, type CancelSettledPayload } from './blocks/thread.js';
import { classifyWriteError, type SlackWriter } from './writer.js';
import { createOutboxWorker } from '../lib/outbox-worker.js';
import { insist } from '../lib/poll-loop.js';

/**
 * Delivers the Slack outbox. Rows are claimed with a lease (FOR UPDATE SKIP LOCKED), so two
 * notifiers never send the same row; each is rendered from the database as it is now (an edit
 * always shows the truth, so of several edits of one message waiting, only the newest is sent);
 * messages of one alert go out in order (an edit or a thread reply waits for the post that gives it a ts); about one message per second per channel; 429 waits for
 * Retry-After, 5xx and network errors back off; the ts is stored in the transaction that marks
 * the row delivered. A message Slack accepted whose delivery cannot be recorded (Postgres away) is
 * remembered and recorded once Postgres answers, before anything else is claimed; until then this
 * notifier never sends that row again.
 */
export interface NotifierOptions {
  sql: postgres.Sql;
  writer: SlackWriter;
  alertChannel: string | undefined;
  /** The on-call mention, links and chart settings for alert messages (absent: none of them). */
  alertMessages?: AlertMessageSettings;
  logger: Logger;
  /** Gap between two messages to one channel. */
  pacingMs?: number;
  pollMs?: number;
  leaseSeconds?: number;
  maxAttempts?: number;
  batchSize?: number;
}

type Plan =
  | { do: 'send'; op: 'post' | 'update'; channel: string; ts?: string; threadTs?: string; broadcast?: boolean; message: RenderedMessage; setsAlertMessage: boolean }
  | { do: 'wait'; seconds: number; why: string }
  | { do: 'supersede'; by: number }
  | { do: 'fail'; why: string };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createNotifier(options: NotifierOptions) {
  const { sql, writer, logger } = options;
  const log = logger.child({ component: 'slack-notifier' });
  const pacingMs = options.pacingMs ?? 1000;
  const pollMs = options.pollMs ?? 500;
  const leaseSeconds = options.leaseSeconds ?? 60;
  const maxAttempts = options.maxAttempts ?? 30;
  const batchSize = options.batchSize ?? 10;
  const nextSlot = new Map<string, number>();
  const alertExtras = createAlertExtras(sql, options.alertMessages);

  /** A message that is edited in place (an alert's, a relay fault's): posted once, then every change edits it. */
  function ownMessagePlan(row: OutboxRow, view: { slack_ts: string | null; slack_channel: string | null }, message: RenderedMessage, what: string): Plan {
    if (view.slack_ts && view.slack_channel) return { do: 'send', op: 'update', channel: view.slack_channel, ts: view.slack_ts, message, setsAlertMessage: false };
    if (row.kind !== 'post') return { do: 'fail', why: `${what} was never posted` };
    if (!options.alertChannel) return { do: 'fail', why: 'SLACK_ALERT_CHANNEL is not set' };
    return { do: 'send', op: 'post', channel: options.alertChannel, message, setsAlertMessage: true };
  }

  async function plan(row: OutboxRow): Promise<Plan> {
    if (row.alert_id) {
      const older = await olderPendingForAlert(sql, row.alert_id, row.id);
      if (older) return { do: 'wait', seconds: 0.3, why: `waits for outbox row ${older.id} of the same alert` };
      // A pause and its resume a moment later: one edit showing where it ended, not two alike.
      const newer = row.kind === 'update' ? await newerPendingEdit(sql, row.alert_id, row.id) : undefined;
      if (newer) return { do: 'supersede', by: newer.id };
    }
    const payload = row.payload as { type?: string; alertId?: string };
    if (payload.type === 'alert') {
      const view = await loadAlertView(sql, row.alert_id ?? String(payload.alertId));
      return view ? ownMessagePlan(row, view, renderAlert(view, await alertExtras(view)), 'the alert message') : { do: 'fail', why: 'alert not found' };
    }
    if (payload.type === 'relay_fault') {
      const view = await loadRelayFaultView(sql, row.alert_id ?? String((payload as { faultId?: unknown }).faultId));
      return view ? ownMessagePlan(row, view, renderRelayFault(view), 'the relay fault message') : { do: 'fail', why: 'relay fault not found' };
    }
    if (payload.type === 'on_call_reply' && row.alert_id) {
      // Shown in the channel too: the point of a re-announcement or a critical turn is to be seen.
      const view = await loadAlertView(sql, row.alert_id);
      if (!view?.slack_ts || !view.slack_channel) return { do: 'fail', why: 'the alert message was never posted' };
      const message = renderOnCallReply(row.payload as unknown as OnCallReplyPayload, view);
      return { do: 'send', op: 'post', channel: view.slack_channel, threadTs: view.slack_ts, broadcast: true, message, setsAlertMessage: false };
    }
    let message: RenderedMessage;
    if (payload.type === 'cancel_confirmation') message = renderCancelConfirmation(row.payload as unknown as CancelConfirmationPayload);
    else if (payload.type === 'cancel_settled') message = renderCancelSettled(row.payload as unknown as CancelSettledPayload);
    else if (payload.type === 'deployment_fault') message = renderDeploymentFault(row.payload as unknown as DeploymentFaultPayload);
    else return { do: 'fail', why: `unknown payload type ${String(payload.type)}` };
    if (row.alert_id) {
      const view = await loadAlertView(sql, row.alert_id);
      if (!view?.slack_ts || !view.slack_channel) return { do: 'fail', why: 'the alert message was never posted' };
      return { do: 'send', op: 'post', channel: view.slack_channel, threadTs: view.slack_ts, message, setsAlertMessage: false };
    }
    if (!options.alertChannel) return { do: 'fail', why: 'SLACK_ALERT_CHANNEL is not set' };
    return { do: 'send', op: 'post', channel: options.alertChannel, message, setsAlertMessage: false };
  }

  async function markDelivered(row: OutboxRow, setsAlertMessage: boolean, channel: string, ts: string | null) {
    // Slack has the message: losing this write would send it again, so insist a little.
    await insist(() => markOutboxDelivered(sql, { id: row.id, alertId: row.alert_id, setsAlertMessage }, channel, ts));
  }

  async function deliver(row: OutboxRow): Promise<void> {
    const p = await plan(row);
    if (p.do === 'wait') return rescheduleOutbox(sql, row.id, p.seconds, null, false);
    if (p.do === 'supersede') return supersedeOutbox(sql, row.id, p.by);
    if (p.do === 'fail') {
      log.error({ outboxId: row.id, dedupeKey: row.dedupe_key, why: p.why }, 'slack message cannot be delivered');
      return failOutbox(sql, row.id, p.why);
    }
    const wait = (nextSlot.get(p.channel) ?? 0) - Date.now();
    if (wait > 1500) return rescheduleOutbox(sql, row.id, wait / 1000, null, false);
    if (wait > 0) await sleep(wait);
    nextSlot.set(p.channel, Date.now() + pacingMs);
    try {
      let ts: string | null = p.ts ?? null;
      if (p.op === 'post') ts = (await writer.post({ channel: p.channel, text: p.message.text, blocks: p.message.blocks, threadTs: p.threadTs, broadcast: p.broadcast })).ts;
      else await writer.update({ channel: p.channel, ts: p.ts!, text: p.message.text, blocks: p.message.blocks });
      try {
        await markDelivered(row, p.setsAlertMessage, p.channel, ts);
      } catch (error) {
        // Sending it again would show it twice: remember it, and record it once Postgres answers.
        worker.remember(row.id, { alertId: row.alert_id, setsAlertMessage: p.setsAlertMessage, channel: p.channel, ts });
        log.warn({ err: error, outboxId: row.id, ts }, 'slack has the message but its delivery cannot be recorded yet; will record it, not resend it');
      }
    } catch (error) {
      const failure = classifyWriteError(error);
      if (failure.kind === 'rate_limited') {
        nextSlot.set(p.channel, Date.now() + failure.retryAfterSeconds * 1000);
        log.warn({ outboxId: row.id, channel: p.channel, retryAfter: failure.retryAfterSeconds }, 'slack rate limited; waiting as asked');
        return rescheduleOutbox(sql, row.id, failure.retryAfterSeconds, failure.detail, false);
      }
      if (failure.kind === 'transient' && row.attempts < maxAttempts) {
        const backoff = Math.min(300, 2 ** Math.min(row.attempts, 9) * 0.5);
        log.warn({ outboxId: row.id, detail: failure.detail, attempts: row.attempts, backoff }, 'slack delivery failed; will retry');
        return rescheduleOutbox(sql, row.id, backoff, failure.detail, true);
      }
      log.error({ outboxId: row.id, dedupeKey: row.dedupe_key, detail: failure.detail }, 'slack delivery failed for good');
      return failOutbox(sql, row.id, failure.detail);
    }
  }

  const worker = createOutboxWorker({
    name: 'slack',
    logger: log,
    pollMs,
    claim: () => claimDueOutbox(sql, batchSize, leaseSeconds),
    deliver,
    record: (id, done: { alertId: string | null; setsAlertMessage: boolean; channel: string; ts: string | null }) =>
      markOutboxDelivered(sql, { id, alertId: done.alertId, setsAlertMessage: done.setsAlertMessage }, done.channel, done.ts),
    describe: (done) => ({ channel: done.channel, ts: done.ts }),
  });
  return { runOnce: worker.runOnce, start: worker.start, kick: worker.kick, stop: worker.stop, unrecordedCount: worker.unrecordedCount };
}

export type Notifier = ReturnType<typeof createNotifier>;
