import { STARTED_BATCH_STATUSES, STATUS, targetOf, type DeploymentStatus } from '../../domain/lifecycle.js';
import type { SqlExecutor } from '../client.js';
import { sqlList, sqlValue } from '../sql-values.js';

/** Pause and resume's SQL; the caller holds the deployments' locks (deployment-locks.ts). */
export async function pauseDeployments(sql: SqlExecutor, ids: string[], actor: string): Promise<void> {
  await sql`update deployments set status = ${sqlValue(sql, targetOf('pause'))}, paused_by = ${actor}, paused_at = now(), updated_at = now() where id = any(${ids}::text[])`;
}

/** What decides where a paused deployment goes back to (resumeTarget), and its next generation. */
export async function resumeFacts(sql: SqlExecutor, deploymentId: string) {
  const [facts] = await sql<{ prefetched: boolean; started: boolean; generation: number }[]>`
    select d.prefetched_count >= d.total_count as prefetched, d.generation + 1 as generation,
      exists (select 1 from batches b where b.deployment_id = d.id and b.status in ${sqlList(sql, STARTED_BATCH_STATUSES)}) as started
    from deployments d where d.id = ${deploymentId}`;
  return facts!;
}

export async function resumeDeployment(sql: SqlExecutor, deploymentId: string, status: DeploymentStatus, generation: number): Promise<void> {
  await sql`update deployments set status = ${status}, generation = ${generation}, paused_by = null, paused_at = null, updated_at = now() where id = ${deploymentId}`;
}

/** A resumed deployment's batches that were sending: their triggers are queued again. */
export async function sendingBatchIds(sql: SqlExecutor, deploymentId: string): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`select id from batches where deployment_id = ${deploymentId} and status = ${sqlValue(sql, STATUS.sending)}`;
  return rows.map((r) => r.id);
}
