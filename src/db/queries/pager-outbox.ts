import { PAGER_ACTION, type PagerDestination } from '../../domain/pager-events.js';
import type { SqlExecutor } from '../client.js';
import { sqlValue } from '../sql-values.js';

/**
 * The pager outbox's SQL: the rows an alert change writes, in the transaction of the change. A
 * trigger is written once per alert and configured destination; an acknowledge or resolve goes
 * only to the destinations that alert was triggered at (so it needs no configuration, and a pager
 * never hears of an alert it was not paged for), and an acknowledge never after a resolve.
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
