import type { SqlExecutor } from '../../db/client.js';
import { batchesDueForTrigger, deploymentsDueForPrefetch } from '../../db/queries/send-scheduling.js';
import { jobIds } from '../../domain/send-jobs.js';
import type { BatchQueue, PrefetchQueue } from '../ports.js';

/**
 * Turns what Postgres says is due into queue jobs, every tick: prefetch jobs for deployments
 * whose send time is within the lead, delayed trigger jobs for batches due within the horizon.
 * Job ids are deterministic, so every worker can run the tick and nothing is queued twice; and
 * because the jobs are derived from Postgres, a lost Redis is re-filled by the next tick.
 */
export function createScheduler(deps: {
  sql: SqlExecutor;
  prefetchQueue: PrefetchQueue;
  batchQueue: BatchQueue;
  leadSeconds: number;
  horizonSeconds?: number;
  clock?: () => number;
}) {
  const now = deps.clock ?? Date.now;
  const horizon = deps.horizonSeconds ?? 60;
  return async function tick(): Promise<{ prefetches: number; batches: number }> {
    const deployments = await deploymentsDueForPrefetch(deps.sql, deps.leadSeconds);
    for (const d of deployments) {
      await deps.prefetchQueue.add('prefetch', { deploymentId: d.id }, { jobId: jobIds.prefetch(d.id) });
    }
    const batches = await batchesDueForTrigger(deps.sql, horizon);
    for (const b of batches) {
      const delay = Math.max(0, new Date(b.send_at).getTime() - now());
      await deps.batchQueue.add(
        'batch',
        { batchId: b.id, deploymentId: b.deployment_id, generation: b.generation },
        { jobId: jobIds.batch(b.id, b.generation), delay },
      );
    }
    return { prefetches: deployments.length, batches: batches.length };
  };
}
