import type postgres from 'postgres';
import type { AlertState } from '../../domain/alert-states.js';
import { TERMINAL_STATUSES } from '../../domain/lifecycle.js';
import { OUTBOX_STATUS } from '../../domain/outbox-states.js';
import type { SqlExecutor } from '../client.js';
import { sqlList, sqlValue } from '../sql-values.js';
import { recentAlert } from './alerts.js';

/**
 * The Slack adapter's SQL: outbox delivery (claim with a lease, mark delivered with the stored ts
 * in one transaction), the alert message's read model, and the refresh rows every status change
 * of a deployment writes for its alert messages.
 */
export interface OutboxRow {
  id: number;
  kind: 'post' | 'update' | 'thread_reply';
  dedupe_key: string;
  alert_id: string | null;
  channel: string | null;
  thread_ts: string | null;
  user_id: string | null;
  payload: Record<string, unknown>;
  attempts: number;
}

/**
 * Claims due rows: each is leased (next_attempt_at moves past the lease) by the statement that
 * selects it with SKIP LOCKED, so two notifiers never hold the same row.
 */
export async function claimDueOutbox(sql: SqlExecutor, limit: number, leaseSeconds: number): Promise<OutboxRow[]> {
  const rows = await sql<OutboxRow[]>`
    update slack_outbox o set attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => ${leaseSeconds})
    from (select id from slack_outbox where status = ${sqlValue(sql, OUTBOX_STATUS.pending)} and next_attempt_at <= now() order by id limit ${limit} for update skip locked) due
    where o.id = due.id
    returning o.id, o.kind, o.dedupe_key, o.alert_id, o.channel, o.thread_ts, o.user_id, o.payload, o.attempts`;
  return [...rows].sort((a, b) => a.id - b.id);
}

/** Delivered: the ts is stored with the delivery, and an alert's first post gives the alert its message. */
export async function markOutboxDelivered(sql: postgres.Sql, row: { id: number; alertId: string | null; setsAlertMessage: boolean }, channel: string, ts: string | null): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`update slack_outbox set status = ${sqlValue(tx, OUTBOX_STATUS.delivered)}, channel = ${channel}, delivered_ts = ${ts}, delivered_at = now(), last_error = null where id = ${row.id}`;
    if (row.setsAlertMessage && row.alertId && ts) {
      // alert_id names an alert or a relay fault: the message belongs to whichever has that id.
      await tx`update alerts set slack_channel = ${channel}, slack_ts = ${ts} where id = ${row.alertId} and slack_ts is null`;
      await tx`update relay_faults set slack_channel = ${channel}, slack_ts = ${ts} where id = ${row.alertId} and slack_ts is null`;
    }
  });
}

/** Back to the queue after `delaySeconds`; a wait that is not a failure does not count as an attempt. */
export async function rescheduleOutbox(sql: SqlExecutor, id: number, delaySeconds: number, error: string | null, countsAsAttempt: boolean): Promise<void> {
  await sql`
    update slack_outbox set next_attempt_at = now() + make_interval(secs => ${delaySeconds}), last_error = coalesce(${error}, last_error),
      attempts = case when ${countsAsAttempt} then attempts else greatest(0, attempts - 1) end
    where id = ${id} and status = ${sqlValue(sql, OUTBOX_STATUS.pending)}`;
}

export async function failOutbox(sql: SqlExecutor, id: number, error: string): Promise<void> {
  await sql`update slack_outbox set status = ${sqlValue(sql, OUTBOX_STATUS.failed)}, last_error = ${error} where id = ${id}`;
}

/** An older undelivered row for the same alert: messages of one alert go out in order. */
export async function olderPendingForAlert(sql: SqlExecutor, alertId: string, id: number): Promise<{ id: number; status: string } | undefined> {
  const [row] = await sql<{ id: number; status: string }[]>`
    select id, status from slack_outbox where alert_id = ${alertId} and id < ${id} and status = ${sqlValue(sql, OUTBOX_STATUS.pending)} order by id limit 1`;
  return row;
}

/**
 * A newer undelivered edit of the same message: it renders the message as it is when it goes, so
 * it shows all this one would (an edit renders the database as it is then, not as it was queued).
 */
export async function newerPendingEdit(sql: SqlExecutor, alertId: string, id: number): Promise<{ id: number } | undefined> {
  const [row] = await sql<{ id: number }[]>`
    select id from slack_outbox where alert_id = ${alertId} and kind = 'update' and id > ${id} and status = ${sqlValue(sql, OUTBOX_STATUS.pending)} order by id desc limit 1`;
  return row;
}

export async function supersedeOutbox(sql: SqlExecutor, id: number, byId: number): Promise<void> {
  await sql`update slack_outbox set status = ${sqlValue(sql, OUTBOX_STATUS.superseded)}, last_error = ${`superseded by outbox row ${byId}`}
    where id = ${id} and status = ${sqlValue(sql, OUTBOX_STATUS.pending)}`;
}

/** Seconds the oldest undelivered row has waited; 0 when none waits. */
export async function outboxLagSeconds(sql: SqlExecutor): Promise<number> {
  const [row] = await sql<{ lag: number | null }[]>`
    select extract(epoch from now() - min(created_at))::float8 as lag from slack_outbox where status = ${sqlValue(sql, OUTBOX_STATUS.pending)}`;
  return row?.lag ?? 0;
}

export async function pendingOutboxCount(sql: SqlExecutor): Promise<number> {
  const [row] = await sql<{ pending: number }[]>`select count(*)::int as pending from slack_outbox where status = ${sqlValue(sql, OUTBOX_STATUS.pending)}`;
  return row?.pending ?? 0;
}

export interface AlertView {
  id: string;
  deployment_id: string;
  metric: 'bounce' | 'error' | 'complaint';
  severity: 'warning' | 'critical';
  state: AlertState;
  rate: number;
  sample: number;
  threshold: number;
  stats: Record<string, { rate?: number | null; sample?: number | null; windowRate?: number | null; windowSample?: number | null } | undefined>;
  top_domains: { domain: string; count: number }[];
  auto_paused: string | null;
  slack_channel: string | null;
  slack_ts: string | null;
  opened_at: Date;
  escalated_at: Date | null;
  resolved_at: Date | null;
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
  snoozed_until: Date | null;
  snoozed_by: string | null;
  reannounced_at: Date | null;
  deployment_name: string;
  deployment_status: string;
  total_count: number;
  sent_count: number;
  bounced_count: number;
  failed_count: number;
  unknown_count: number;
  in_flight_count: number;
  cancelled_count: number;
  cancelled_by: string | null;
  cancelled_at: Date | null;
  cancel_reason: string | null;
  paused_by: string | null;
  paused_at: Date | null;
  completed_at: Date | null;
  campaign_id: string;
  campaign_name: string;
  campaign_kind: 'single' | 'multi';
  campaign_status: string;
  /** The campaign's alert policy override (the chart's thresholds), as stored. */
  campaign_alert_policy: unknown;
}

export async function loadAlertView(sql: SqlExecutor, alertId: string): Promise<AlertView | undefined> {
  const [row] = await sql<AlertView[]>`
    select a.id, a.deployment_id, a.metric, a.severity, a.state, a.rate, a.sample, a.threshold, a.stats, a.top_domains, a.auto_paused,
      a.slack_channel, a.slack_ts, a.opened_at, a.escalated_at, a.resolved_at,
      a.acknowledged_by, a.acknowledged_at, a.snoozed_until, a.snoozed_by, a.reannounced_at,
      d.name as deployment_name, d.status as deployment_status, d.total_count, d.sent_count, d.bounced_count, d.failed_count, d.unknown_count,
      d.in_flight_count, d.cancelled_count, d.cancelled_by, d.cancelled_at, d.cancel_reason, d.paused_by, d.paused_at, d.completed_at,
      c.id as campaign_id, c.name as campaign_name, c.kind as campaign_kind, c.status as campaign_status, c.alert_policy as campaign_alert_policy
    from alerts a join deployments d on d.id = a.deployment_id join campaigns c on c.id = d.campaign_id
    where a.id = ${alertId}`;
  return row;
}

/**
 * The alert behind a clicked message, if its message may be out of date: for an ended deployment,
 * unless an edit was already queued when (or after) it ended.
 */
export async function staleAlertMessage(sql: SqlExecutor, channel: string, ts: string): Promise<{ id: string } | undefined> {
  const [row] = await sql<{ id: string }[]>`
    select a.id from alerts a join deployments d on d.id = a.deployment_id
    where a.slack_channel = ${channel} and a.slack_ts = ${ts}
      and not exists (
        select 1 from slack_outbox o
        where o.alert_id = a.id and o.status <> ${sqlValue(sql, OUTBOX_STATUS.failed)} and d.status in ${sqlList(sql, TERMINAL_STATUSES)}
          and o.created_at >= coalesce(d.cancelled_at, d.completed_at))
    limit 1`;
  return row;
}

export type AlertChange = 'cancelled' | 'completed' | 'paused' | 'resumed' | 'refresh';

/**
 * One statement, in the transaction of the change: an edit of every open or recent alert message
 * of these deployments. Inserts nothing when they have no alert. Repeatable changes (pause,
 * resume, a refresh) get a key of their own per transaction.
 */
export async function enqueueAlertEdits(sql: SqlExecutor, deploymentIds: string[], change: AlertChange): Promise<void> {
  if (deploymentIds.length === 0) return;
  const once = change === 'cancelled' || change === 'completed';
  await sql`
    insert into slack_outbox (kind, dedupe_key, alert_id, payload)
    select 'update', 'alert:' || a.id || ':' || ${change}::text || case when ${once}::boolean then '' else ':' || txid_current()::text end, a.id,
      json_build_object('type', 'alert', 'alertId', a.id, 'change', ${change}::text)::jsonb
    from alerts a where a.deployment_id = any(${deploymentIds}::text[]) and ${recentAlert(sql)}
    on conflict (dedupe_key) do nothing`;
}

/**
 * A cancel's confirmation: a reply in the thread of every open or recent alert message of the
 * stopped deployments, or, with no alert message, a post to the alert channel.
 */
export async function enqueueCancelConfirmation(sql: SqlExecutor, deploymentIds: string[], target: string, payload: Record<string, unknown>): Promise<void> {
  const json = JSON.stringify(payload);
  const threads = deploymentIds.length
    ? await sql`
        insert into slack_outbox (kind, dedupe_key, alert_id, payload)
        select 'thread_reply', 'cancel:' || ${target}::text || ':' || a.id, a.id, ${json}::jsonb
        from alerts a where a.deployment_id = any(${deploymentIds}::text[]) and ${recentAlert(sql)}
        on conflict (dedupe_key) do nothing returning 1`
    : [];
  if (threads.length === 0) {
    await sql`insert into slack_outbox (kind, dedupe_key, payload) values ('post', ${`cancel:${target}`}, ${json}::jsonb) on conflict (dedupe_key) do nothing`;
  }
}

/** A post to the alert channel that a deployment was paused because it cannot be sent as it is; in the pause's transaction. */
export async function enqueueDeploymentFault(sql: SqlExecutor, deploymentId: string, cause: string): Promise<void> {
  await sql`
    insert into slack_outbox (kind, dedupe_key, payload)
    select 'post', 'fault:' || d.id || ':' || txid_current()::text,
      json_build_object('type', 'deployment_fault', 'deploymentId', d.id, 'deploymentName', d.name, 'campaignName', c.name, 'cause', ${cause}::text)::jsonb
    from deployments d join campaigns c on c.id = d.campaign_id where d.id = ${deploymentId}
    on conflict (dedupe_key) do nothing`;
}

/** An edit of one alert message (a stale click showed it is out of date). */
export async function enqueueAlertRefresh(sql: SqlExecutor, alertId: string): Promise<void> {
  await sql`
    insert into slack_outbox (kind, dedupe_key, alert_id, payload)
    values ('update', ${`alert:${alertId}:refresh:${Date.now()}`}, ${alertId}, ${JSON.stringify({ type: 'alert', alertId, change: 'refresh' })}::jsonb)
    on conflict (dedupe_key) do nothing`;
}

/** The monitor's outbox row for an alert change, in the transaction of the change; the notifier renders it. */
export async function enqueueAlertChange(
  sql: SqlExecutor,
  alertId: string,
  change: 'opened' | 'escalated' | 'resolved' | 'auto_paused' | 'acknowledged' | 'snoozed' | 'reannounced',
  dedupeKey: string,
): Promise<void> {
  await sql`
    insert into slack_outbox (kind, dedupe_key, alert_id, payload)
    values (${change === 'opened' ? 'post' : 'update'}, ${dedupeKey}, ${alertId}, ${JSON.stringify({ type: 'alert', alertId, change })}::jsonb)
    on conflict (dedupe_key) do nothing`;
}

/**
 * A relay fault's message, in the transaction of the change: posted when the fault opens, edited
 * when more deployments are paused by it or it is resumed. Its rows carry the fault's id as their
 * alert_id, so they go out in order like an alert's.
 */
export async function enqueueRelayFaultMessage(sql: SqlExecutor, faultId: string, change: 'opened' | 'paused' | 'resumed'): Promise<void> {
  await sql`
    insert into slack_outbox (kind, dedupe_key, alert_id, payload)
    values (${change === 'opened' ? 'post' : 'update'}, ${'relay:' + faultId + ':' + change + ':'} || txid_current()::text, ${faultId},
      ${JSON.stringify({ type: 'relay_fault', faultId, change })}::jsonb)
    on conflict (dedupe_key) do nothing`;
}
