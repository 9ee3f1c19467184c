import { ALERT_STATE, RECENT_ALERT_HOURS, WATCHED_STATUSES } from '../../domain/alert-states.js';
import { DELIVERY } from '../../domain/deliveries.js';
import type { Level, Metric } from '../../domain/thresholds.js';
import type { SqlExecutor } from '../client.js';
import { sqlList, sqlValue } from '../sql-values.js';

/**
 * The alert monitor's SQL. A tick reads a handful of small rows per watched deployment (counters,
 * a baseline a window ago, the watch state) and writes only what changed.
 */
/**
 * The alerts `a` whose message a change of their deployment still concerns: open ones, and those
 * resolved (or opened) within RECENT_ALERT_HOURS. Their messages are edited and their threads
 * get the cancel replies.
 */
export const recentAlert = (sql: SqlExecutor) =>
  sql`(a.state = ${sqlValue(sql, ALERT_STATE.open)} or coalesce(a.resolved_at, a.opened_at) > now() - make_interval(hours => ${RECENT_ALERT_HOURS}))`;

export interface WatchedDeployment {
  id: string;
  campaign_id: string;
  status: string;
  total_count: number;
  sent_count: number;
  bounced_count: number;
  failed_count: number;
  unknown_count: number;
  complaint_count: number;
  alert_policy: unknown;
}

/**
 * Live deployments, ended ones still getting feedback, ones with an open alert or a pending
 * change, and the ones the last tick watched (so a deployment that just completed gets its
 * final look). Each branch is served by an index.
 */
export async function watchedDeployments(sql: SqlExecutor, windowSeconds: number, previous: string[]): Promise<WatchedDeployment[]> {
  return sql<WatchedDeployment[]>`
    with ids as (
      select id from deployments where status in ${sqlList(sql, WATCHED_STATUSES)}
      union select id from deployments where feedback_at > now() - make_interval(secs => ${windowSeconds})
      union select deployment_id from alerts where state = ${sqlValue(sql, ALERT_STATE.open)}
      union select deployment_id from alert_watches where level <> 'ok' or candidate is not null
      union select unnest(${previous}::text[])
    )
    select d.id, d.campaign_id, d.status, d.total_count, d.sent_count, d.bounced_count, d.failed_count, d.unknown_count, d.complaint_count, c.alert_policy
    from ids join deployments d on d.id = ids.id join campaigns c on c.id = d.campaign_id
    -- An ended deployment that has heard nothing for a day is done being watched, open alert or not.
    where d.status in ${sqlList(sql, WATCHED_STATUSES)} or greatest(d.feedback_at, d.completed_at, d.cancelled_at, d.updated_at) > now() - interval '1 day'`;
}

export interface SampleRow {
  deployment_id: string;
  sent: number;
  bounced: number;
  errors: number;
  complaints: number;
}

/** Each deployment's newest snapshot at least a window old: the start of its rolling window. */
export async function baselines(sql: SqlExecutor, ids: string[], windowSeconds: number): Promise<SampleRow[]> {
  if (ids.length === 0) return [];
  return sql<SampleRow[]>`
    select distinct on (deployment_id) deployment_id, sent, bounced, errors, complaints
    from deployment_samples
    where deployment_id = any(${ids}::text[]) and taken_at <= now() - make_interval(secs => ${windowSeconds})
    order by deployment_id, taken_at desc`;
}

export async function recordSamples(sql: SqlExecutor, rows: WatchedDeployment[]): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    insert into deployment_samples (deployment_id, taken_at, attempted, sent, bounced, errors, complaints)
    select id, date_trunc('second', now()), sent + bounced + errors, sent, bounced, errors, complaints
    from unnest(${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.sent_count)}::int[],
      ${rows.map((r) => r.bounced_count)}::int[], ${rows.map((r) => r.failed_count + r.unknown_count)}::int[],
      ${rows.map((r) => r.complaint_count)}::int[]) as v(id, sent, bounced, errors, complaints)
    on conflict do nothing`;
}

export async function pruneSamples(sql: SqlExecutor, keepSeconds: number): Promise<void> {
  await sql`delete from deployment_samples where taken_at < now() - make_interval(secs => ${keepSeconds})`;
}

export interface WatchRow {
  deployment_id: string;
  metric: Metric;
  level: Level;
  candidate: Level | null;
  candidate_since: string | null;
}

export async function watchesFor(sql: SqlExecutor, ids: string[]): Promise<WatchRow[]> {
  if (ids.length === 0) return [];
  return sql<WatchRow[]>`select deployment_id, metric, level, candidate, candidate_since from alert_watches where deployment_id = any(${ids}::text[])`;
}

export async function saveWatches(sql: SqlExecutor, rows: { deploymentId: string; metric: Metric; level: Level; candidate: Level | null; candidateSince: Date | null }[]): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    insert into alert_watches (deployment_id, metric, level, candidate, candidate_since, updated_at)
    select *, now() from unnest(${rows.map((r) => r.deploymentId)}::text[], ${rows.map((r) => r.metric)}::text[],
      ${rows.map((r) => r.level)}::text[], ${rows.map((r) => r.candidate) as string[]}::text[],
      ${rows.map((r) => r.candidateSince?.toISOString() ?? null) as string[]}::timestamptz[])
    on conflict (deployment_id, metric) do update set level = excluded.level, candidate = excluded.candidate,
      candidate_since = excluded.candidate_since, updated_at = now()`;
}

/** The recipient domains with the most bounces, from at most the 20,000 newest bounced rows. */
export async function topBouncingDomains(sql: SqlExecutor, deploymentId: string, limit = 5): Promise<{ domain: string; count: number }[]> {
  return sql<{ domain: string; count: number }[]>`
    select lower(split_part(email, '@', 2)) as domain, count(*)::int as count
    from (select email from deliveries where deployment_id = ${deploymentId} and status = ${sqlValue(sql, DELIVERY.bounced)} order by seq desc limit 20000) b
    group by 1 order by 2 desc, 1 limit ${limit}`;
}

export interface AlertFacts {
  metric: Metric;
  severity: 'warning' | 'critical';
  rate: number;
  sample: number;
  threshold: number;
  stats: Record<string, unknown>;
  topDomains: { domain: string; count: number }[];
}

export async function insertAlert(sql: SqlExecutor, id: string, deploymentId: string, facts: AlertFacts): Promise<void> {
  await sql`
    insert into alerts (id, deployment_id, metric, severity, rate, sample, threshold, stats, top_domains)
    values (${id}, ${deploymentId}, ${facts.metric}, ${facts.severity}, ${facts.rate}, ${facts.sample}, ${facts.threshold},
      ${JSON.stringify(facts.stats)}::jsonb, ${JSON.stringify(facts.topDomains)}::jsonb)`;
}

export async function escalateAlert(sql: SqlExecutor, deploymentId: string, facts: AlertFacts): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`
    update alerts set severity = ${facts.severity}, rate = ${facts.rate}, sample = ${facts.sample}, threshold = ${facts.threshold},
      stats = ${JSON.stringify(facts.stats)}::jsonb, top_domains = ${JSON.stringify(facts.topDomains)}::jsonb, escalated_at = now(), updated_at = now()
    where deployment_id = ${deploymentId} and metric = ${facts.metric} and state = ${sqlValue(sql, ALERT_STATE.open)}
    returning id`;
  return row?.id;
}

export async function resolveAlert(sql: SqlExecutor, deploymentId: string, metric: Metric, rate: number, sample: number, stats: Record<string, unknown>): Promise<{ id: string; severity: string } | undefined> {
  const [row] = await sql<{ id: string; severity: string }[]>`
    update alerts set state = ${sqlValue(sql, ALERT_STATE.resolved)}, rate = ${rate}, sample = ${sample}, stats = ${JSON.stringify(stats)}::jsonb, resolved_at = now(), updated_at = now()
    where deployment_id = ${deploymentId} and metric = ${metric} and state = ${sqlValue(sql, ALERT_STATE.open)}
    returning id, severity`;
  return row;
}

export async function markAutoPaused(sql: SqlExecutor, alertId: string, note: string): Promise<void> {
  await sql`update alerts set auto_paused = ${note}, updated_at = now() where id = ${alertId}`;
}

/** Open alerts by metric and severity (the `campaign_guard_alerts_open` gauge). */
export async function openAlertCounts(sql: SqlExecutor): Promise<{ metric: string; severity: string; open: number }[]> {
  return sql<{ metric: string; severity: string; open: number }[]>`
    select metric, severity, count(*)::int as open from alerts where state = ${sqlValue(sql, ALERT_STATE.open)} group by metric, severity`;
}
