import { MAY_START_BATCHES, STATUS, statusesAllowing, targetOf } from '../../domain/lifecycle.js';
import type { SqlExecutor } from '../client.js';
import { sqlList, sqlValue } from '../sql-values.js';

/** The scheduler's reads: which deployments are due for prefetch, which batches for their trigger. */
/** Deployments whose prefetch is due (or was cut short by a crash). */
export async function deploymentsDueForPrefetch(sql: SqlExecutor, leadSeconds: number, limit = 50) {
  return sql<{ id: string }[]>`
    select id from deployments
    where (status in ${sqlList(sql, statusesAllowing('startPrefetch'))} and send_at <= now() + make_interval(secs => ${leadSeconds}))
       or status = ${sqlValue(sql, targetOf('startPrefetch'))}
    order by send_at
    limit ${limit}`;
}

/**
 * Batches whose trigger should be queued: scheduled ones due within the horizon whose audience is
 * ready, and sending ones whose send jobs were not queued for the current generation yet (after a
 * resume, or when Redis lost them).
 */
export async function batchesDueForTrigger(sql: SqlExecutor, horizonSeconds: number, limit = 200) {
  return sql<{ id: string; deployment_id: string; send_at: string; generation: number }[]>`
    select b.id, b.deployment_id, b.send_at, d.generation
    from batches b join deployments d on d.id = b.deployment_id
    where (b.status = ${sqlValue(sql, STATUS.scheduled)} and b.send_at <= now() + make_interval(secs => ${horizonSeconds}) and d.status in ${sqlList(sql, MAY_START_BATCHES)})
       or (b.status = ${sqlValue(sql, STATUS.sending)} and d.status = ${sqlValue(sql, STATUS.sending)} and b.triggered_generation < d.generation)
    order by b.send_at
    limit ${limit}`;
}

export async function markBatchTriggered(sql: SqlExecutor, batchId: string, generation: number): Promise<void> {
  await sql`update batches set triggered_generation = greatest(triggered_generation, ${generation}) where id = ${batchId}`;
}
