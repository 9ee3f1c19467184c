import { PAGER_ACTION, type PagerAction, type PagerDestination } from '../../domain/pager-events.js';
import type { SqlExecutor } from '../client.js';
import { sqlValue } from '../sql-values.js';

/**
 * The pager outbox's SQL: the rows an alert change writes, in the transaction of the change, one
 * per configured destination. A trigger is written once per alert and destination; an acknowledge
 * or resolve only where that alert was triggered (a pager never hears of an alert it was not paged
 * for), and an acknowledge not after a resolve.
 */
export type PagerTarget = { alertIds: readonly string[] } | { deploymentIds: readonly string[] };

export async function enqueuePagerEvents(sql: SqlExecutor, destinations: readonly PagerDestination[], target: PagerTarget, action: PagerAction): Promise<void> {
  const ids = 'alertIds' in target ? target.alertIds : target.deploymentIds;
  if (destinations.length === 0 || ids.length === 0) return;
  const byAlert = 'alertIds' in target;
  await sql`
    insert into pager_outbox (alert_id, destination, action, dedupe_key, payload)
    select a.id, dest, ${sqlValue(sql, action)}, 'pager:' || a.id || ':' || dest || ':' || ${action}::text,
      json_build_object('metric', a.metric, 'severity', a.severity, 'rate', a.rate, 'threshold', a.threshold, 'deploymentId', a.deployment_id)::jsonb
    from alerts a cross join unnest(${[...destinations]}::text[]) as dest
    where (case when ${byAlert}::boolean then a.id else a.deployment_id end) = any(${[...ids]}::text[])
      and (${action}::text = ${PAGER_ACTION.trigger}::text or exists (
        select 1 from pager_outbox t where t.alert_id = a.id and t.destination = dest and t.action = ${sqlValue(sql, PAGER_ACTION.trigger)}))
      and (${action}::text <> ${PAGER_ACTION.acknowledge}::text or not exists (
        select 1 from pager_outbox r where r.alert_id = a.id and r.destination = dest and r.action = ${sqlValue(sql, PAGER_ACTION.resolve)}))
    order by a.id, dest
    on conflict (dedupe_key) do nothing`;
}
