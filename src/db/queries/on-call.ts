import { ALERT_STATE, RECENT_ALERT_HOURS } from '../../domain/alert-states.js';
import { ACTIVE_DEPLOYMENT_STATUSES } from '../../domain/lifecycle.js';
import { PAGER_ACTION, type PagerDestination } from '../../domain/pager-events.js';
import type { CounterSnapshot } from '../../domain/rate-chart.js';
import { totals, type Metric } from '../../domain/thresholds.js';
import type { SqlExecutor } from '../client.js';
import { sqlList, sqlValue } from '../sql-values.js';
import { enqueuePagerFollowUp, enqueuePagerTrigger } from './pager-outbox.js';

/**
 * The on-call loop's SQL: who acknowledged or snoozed an alert, the re-announcement of alerts
 * nobody acted on (one conditional update, so it happens once across processes and restarts),
 * the on-call thread replies, and the open alerts with who is on them (App Home, `/campaign ack`).
 */
/** Timestamps come back as ISO text (the client's date parsing is off) — read them with new Date(). */
export interface OnCallRow {
  id: string;
  deployment_id: string;
  state: 'open' | 'resolved';
  severity: 'warning' | 'critical';
  acknowledged_by: string | null;
  acknowledged_at: Date | string | null;
  snoozed_until: Date | string | null;
}

/** One alert, or the open alerts of one deployment, locked for the change. */
export async function lockAlertsForOnCall(sql: SqlExecutor, target: { alertId: string } | { deploymentId: string }): Promise<OnCallRow[]> {
  if ('alertId' in target) {
    return sql<OnCallRow[]>`
      select id, deployment_id, state, severity, acknowledged_by, acknowledged_at, snoozed_until from alerts where id = ${target.alertId} for update`;
  }
  return sql<OnCallRow[]>`
    select id, deployment_id, state, severity, acknowledged_by, acknowledged_at, snoozed_until from alerts
    where deployment_id = ${target.deploymentId} and state = ${sqlValue(sql, ALERT_STATE.open)} order by opened_at for update`;
}

/**
 * Marks open, unacknowledged alerts acknowledged (by id, or every one of some deployments) and
 * queues the pagers' acknowledge where they were triggered. Returns the alerts it marked.
 */
export async function acknowledgeAlerts(sql: SqlExecutor, target: { alertIds: readonly string[] } | { deploymentIds: readonly string[] }, actor: string): Promise<string[]> {
  const byAlert = 'alertIds' in target;
  const ids = [...(byAlert ? target.alertIds : target.deploymentIds)];
  if (ids.length === 0) return [];
  const rows = await sql<{ id: string }[]>`
    update alerts a set acknowledged_by = ${actor}, acknowledged_at = now(), updated_at = now()
    where (case when ${byAlert}::boolean then a.id else a.deployment_id end) = any(${ids}::text[])
      and a.state = ${sqlValue(sql, ALERT_STATE.open)} and a.acknowledged_at is null
    returning a.id`;
  const marked = rows.map((r) => r.id);
  await enqueuePagerFollowUp(sql, { alertIds: marked }, PAGER_ACTION.acknowledge);
  return marked;
}

export async function markSnoozed(sql: SqlExecutor, alertId: string, until: Date, actor: string): Promise<void> {
  await sql`update alerts set snoozed_until = ${until.toISOString()}::timestamptz, snoozed_by = ${actor}, updated_at = now() where id = ${alertId}`;
}

/**
 * An escalation to critical: a snooze ends (a critical alert always reaches someone) and the
 * re-announcement clock restarts from the escalation.
 */
export async function restartOnCall(sql: SqlExecutor, alertId: string): Promise<void> {
  await sql`update alerts set snoozed_until = null, snoozed_by = null, reannounced_at = null where id = ${alertId}`;
}

export interface Reannouncement {
  id: string;
  severity: 'warning' | 'critical';
}

/**
 * Open alerts of live deployments that nobody acknowledged within `escalateAfterSeconds` of
 * their opening, their escalation or their snooze's end (domain/on-call.ts reannounceDueAt),
 * marked re-announced in the same statement that finds them: a second process (or a restart)
 * finds them marked. Their pagers' triggers are queued in the same transaction.
 */
export async function claimReannouncements(sql: SqlExecutor, escalateAfterSeconds: number, pagerDestinations: readonly PagerDestination[]): Promise<Reannouncement[]> {
  if (escalateAfterSeconds <= 0) return [];
  const rows = await sql<Reannouncement[]>`
    update alerts a set reannounced_at = now(), updated_at = now()
    from deployments d
    where d.id = a.deployment_id and a.state = ${sqlValue(sql, ALERT_STATE.open)} and d.status in ${sqlList(sql, ACTIVE_DEPLOYMENT_STATUSES)}
      and a.acknowledged_at is null and a.reannounced_at is null
      and greatest(a.opened_at, coalesce(a.escalated_at, a.opened_at), coalesce(a.snoozed_until, a.opened_at)) + make_interval(secs => ${escalateAfterSeconds}) <= now()
    returning a.id, a.severity`;
  await enqueuePagerTrigger(sql, pagerDestinations, rows.map((r) => r.id));
  return rows;
}

export interface OnCallReplyPayload {
  type: 'on_call_reply';
  reason: 'reannounced' | 'critical';
  alertId: string;
  /** The mention as configured when it was decided (empty: none). */
  mention: string | null;
  /** For a re-announcement: the seconds nobody acknowledged. */
  waitedSeconds?: number;
}

/** A reply in the alert's thread (a re-announcement, or the mention of an escalation to critical), in the transaction of the change. */
export async function enqueueOnCallReply(sql: SqlExecutor, payload: OnCallReplyPayload): Promise<void> {
  await sql`
    insert into slack_outbox (kind, dedupe_key, alert_id, payload)
    values ('thread_reply', ${`alert:${payload.alertId}:${payload.reason}:`} || txid_current()::text, ${payload.alertId}, ${JSON.stringify(payload)}::jsonb)
    on conflict (dedupe_key) do nothing`;
}

export interface OpenAlertOnCall {
  id: string;
  deployment_id: string;
  deployment_name: string;
  campaign_name: string;
  metric: string;
  severity: 'warning' | 'critical';
  rate: number;
  opened_at: Date;
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
  snoozed_until: Date | null;
  snoozed_by: string | null;
  reannounced_at: Date | null;
}

/**
 * The open alerts with who is on them, critical first, then oldest first: of live deployments,
 * and of ended ones only within RECENT_ALERT_HOURS of the alert's last change (an ended
 * deployment's alert that never resolved is not someone's job for ever).
 */
export async function openAlertsOnCall(sql: SqlExecutor, limit = 20): Promise<OpenAlertOnCall[]> {
  return sql<OpenAlertOnCall[]>`
    select a.id, a.deployment_id, d.name as deployment_name, c.name as campaign_name, a.metric, a.severity, a.rate, a.opened_at,
      a.acknowledged_by, a.acknowledged_at, a.snoozed_until, a.snoozed_by, a.reannounced_at
    from alerts a join deployments d on d.id = a.deployment_id join campaigns c on c.id = d.campaign_id
    where a.state = ${sqlValue(sql, ALERT_STATE.open)}
      and (d.status in ${sqlList(sql, ACTIVE_DEPLOYMENT_STATUSES)} or a.updated_at > now() - make_interval(hours => ${RECENT_ALERT_HOURS}))
    order by (a.severity = 'critical') desc, a.opened_at
    limit ${limit}`;
}

/** The metric's counters in the snapshots of the window ending at `end`, for the alert's chart (rates as domain/thresholds.ts totals takes them). */
export async function rateSnapshots(sql: SqlExecutor, deploymentId: string, metric: Metric, windowSeconds: number, end: Date): Promise<CounterSnapshot[]> {
  const rows = await sql<{ at: Date; sent: number; bounced: number; errors: number; complaints: number }[]>`
    select taken_at as at, sent, bounced, errors, complaints from deployment_samples
    where deployment_id = ${deploymentId} and taken_at > ${end.toISOString()}::timestamptz - make_interval(secs => ${windowSeconds + 5})
      and taken_at <= ${end.toISOString()}::timestamptz
    order by taken_at`;
  return rows.map((r) => {
    const t = totals({ sent: r.sent, bounced: r.bounced, failed: r.errors, unknown: 0, complaints: r.complaints })[metric];
    return { at: new Date(r.at), count: t.count, sample: t.sample };
  });
}
