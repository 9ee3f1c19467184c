import type { SqlExecutor } from '../../db/client.js';
import { expireClaims, renewLeases } from '../../db/queries/sending.js';
import { closeFinishedWork } from './books.js';

/** Keeps this worker's claims alive, and turns dead workers' expired claims into `unknown`. */
export function createLeaseKeeper(deps: { sql: SqlExecutor; workerId: string; leaseSeconds: number }) {
  return {
    renew: () => renewLeases(deps.sql, deps.workerId, deps.leaseSeconds),
    async sweep(): Promise<number> {
      const touched = await expireClaims(deps.sql);
      for (const t of touched) await closeFinishedWork(deps.sql, { id: t.batch_id, deploymentId: t.deployment_id });
      return touched.reduce((sum, t) => sum + t.n, 0);
    },
  };
}
