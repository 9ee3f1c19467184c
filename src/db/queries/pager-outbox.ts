import { OUTBOX_STATUS, type OutboxStatus } from '../../domain/outbox-states.js';
import { PAGER_ACTION, PAGER_DESTINATIONS, type PagerAction, type PagerDestination } from '../../domain/pager-events.js';
import type { SqlExecutor } from '../client.js';
import { sqlValue } from '../sql-values.js';

/**
 * The pager outbox's SQL: the rows an alert change writes, in the transaction of the change. A
 * trigger is written once per alert and configured destination; an acknowledge or resolve goes
 * only to the destinations that alert was triggered at (so it needs no configuration, and a pager
 * never hears of an alert it was not paged for), and an acknowledge never after a resolve. Then
 * the deliverer's side: claim with a lease, order per alert and destination, settle.
 */
const payload = (sql: SqlExecutor) =>
  sql`json_build_object('metric', a.metric, 'severity', a.severity, 'rate', a.rate, 'threshold', a.threshold, 'deploymentId', a.deployment_id)::jsonb`;

export async function enqueuePagerTrigger(sql: SqlExecutor, destinations: readonly PagerDestination[], alertIds: readonly string[]): Promise<void> {
  if (destinations.length === 0 || alertIds.length === 0) return;
  await sql`
    insert into pager_outbox (alert_id, destination, action, dedupe_key, payload)
    select a.id, dest, ${sqlValue(sql, PAGER_ACTION.trigger)}, 'pager:' || a.id || ':' || dest || ':' || ${PAGER_ACTION.trigger}::text, ${payload(sql)}
    from alerts a cross join unnest(${[...destinations]}::text[]) as dest
    where a.id = any(${[...alertIds]}::text[])
    order by a.id, dest
    on conflict (dedupe_key) do nothing`;
}

export type PagerFollowUpTarget = { alertIds: readonly string[] } | { deploymentIds: readonly string[] };

/** An acknowledge or resolve for these alerts (or every alert of these deployments), wherever they were triggered. */
export async function enqueuePagerFollowUp(sql: SqlExecutor, target: PagerFollowUpTarget, action: typeof PAGER_ACTION.acknowledge | typeof PAGER_ACTION.resolve): Promise<void> {
  const byAlert = 'alertIds' in target;
  const ids = byAlert ? target.alertIds : target.deploymentIds;
  if (ids.length === 0) return;
  await sql`
    insert into pager_outbox (alert_id, destination, action, dedupe_key, payload)
    select a.id, t.destination, ${sqlValue(sql, action)}, 'pager:' || a.id || ':' || t.destination || ':' || ${action}::text, ${payload(sql)}
    from alerts a join pager_outbox t on t.alert_id = a.id and t.action = ${sqlValue(sql, PAGER_ACTION.trigger)}
    where (case when ${byAlert}::boolean then a.id else a.deployment_id end) = any(${[...ids]}::text[])
      and (${action}::text <> ${PAGER_ACTION.acknowledge}::text or not exists (
        select 1 from pager_outbox r where r.alert_id = a.id and r.destination = t.destination and r.action = ${sqlValue(sql, PAGER_ACTION.resolve)}))
    order by a.id, t.destination
    on conflict (dedupe_key) do nothing`;
}

/** A pager outbox row as the deliverer sees it. */
export interface PagerOutboxRow {
  id: number;
  alert_id: string;
  destination: PagerDestination;
  action: PagerAction;
  dedupe_key: string;
  payload: { metric?: string; severity?: 'warning' | 'critical'; rate?: number; threshold?: number; deploymentId?: string };
  attempts: number;
  created_at: Date;
}

/**
 * Claims due rows of these destinations: each is leased (next_attempt_at moves past the lease) by
 * the statement that selects it with SKIP LOCKED, so two deliverers never hold the same row.
 */
export async function claimDuePagerOutbox(sql: SqlExecutor, destinations: readonly PagerDestination[], limit: number, leaseSeconds: number): Promise<PagerOutboxRow[]> {
  if (destinations.length === 0) return [];
  const rows = await sql<PagerOutboxRow[]>`
    update pager_outbox o set attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => ${leaseSeconds})
    from (
      select id from pager_outbox
      where status = ${sqlValue(sql, OUTBOX_STATUS.pending)} and next_attempt_at <= now() and destination = any(${[...destinations]}::text[])
      order by id limit ${limit} for update skip locked) due
    where o.id = due.id
    returning o.id, o.alert_id, o.destination, o.action, o.dedupe_key, o.payload, o.attempts, o.created_at`;
  return [...rows].sort((a, b) => a.id - b.id);
}

export interface PagerRowBlocker {
  id: number;
  status: OutboxStatus;
  last_error: string | null;
  /** Seconds until the blocking row is next tried (0 when due). */
  due_in_seconds: number;
}

/**
 * What holds a row back: an older pending row of the same alert and destination (it goes first),
 * or that alert's trigger at this destination failed for good (its acknowledge or resolve would
 * name an incident the pager never opened).
 */
export async function pagerRowBlocker(sql: SqlExecutor, row: { id: number; alert_id: string; destination: PagerDestination }): Promise<PagerRowBlocker | undefined> {
  const [blocker] = await sql<PagerRowBlocker[]>`
    select id, status, last_error, greatest(0, extract(epoch from next_attempt_at - now()))::float8 as due_in_seconds from pager_outbox
    where alert_id = ${row.alert_id} and destination = ${row.destination} and id < ${row.id}
      and (status = ${sqlValue(sql, OUTBOX_STATUS.pending)} or (status = ${sqlValue(sql, OUTBOX_STATUS.failed)} and action = ${sqlValue(sql, PAGER_ACTION.trigger)}))
    order by id limit 1`;
  return blocker;
}

/** Delivered, in one statement (a row already settled stays as it is). */
export async function markPagerDelivered(sql: SqlExecutor, id: number): Promise<void> {
  await sql`update pager_outbox set status = ${sqlValue(sql, OUTBOX_STATUS.delivered)}, delivered_at = now(), last_error = null
    where id = ${id} and status = ${sqlValue(sql, OUTBOX_STATUS.pending)}`;
}

/** Back to the queue after `delaySeconds`; a wait that is not a failure does not count as an attempt. */
export async function reschedulePagerRow(sql: SqlExecutor, id: number, delaySeconds: number, error: string | null, countsAsAttempt: boolean): Promise<void> {
  await sql`
    update pager_outbox set next_attempt_at = now() + make_interval(secs => ${delaySeconds}), last_error = coalesce(${error}, last_error),
      attempts = case when ${countsAsAttempt}::boolean then attempts else greatest(0, attempts - 1) end
    where id = ${id} and status = ${sqlValue(sql, OUTBOX_STATUS.pending)}`;
}

export async function failPagerRow(sql: SqlExecutor, id: number, error: string): Promise<void> {
  await sql`update pager_outbox set status = ${sqlValue(sql, OUTBOX_STATUS.failed)}, last_error = ${error} where id = ${id} and status = ${sqlValue(sql, OUTBOX_STATUS.pending)}`;
}

/** Undelivered pager events by destination (every destination listed, 0 when none waits). */
export async function pendingPagerCounts(sql: SqlExecutor): Promise<{ destination: PagerDestination; pending: number }[]> {
  return sql<{ destination: PagerDestination; pending: number }[]>`
    select d.destination, count(o.id)::int as pending
    from unnest(${[...PAGER_DESTINATIONS]}::text[]) as d(destination)
    left join pager_outbox o on o.destination = d.destination and o.status = ${sqlValue(sql, OUTBOX_STATUS.pending)}
    group by d.destination order by d.destination`;
}
