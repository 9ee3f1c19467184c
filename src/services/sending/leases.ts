import type { DatabaseHandle } from '../../db/client.js';
import { cancelledLedgersLeftOpen, markLedgerCancelled, reportSettledCancel } from '../../db/queries/cancellation.js';
import { lockDeployment } from '../../db/queries/deployment-locks.js';
import { deploymentsWithExpiredClaims, expireClaims, renewLeases } from '../../db/queries/leases.js';
import { closeFinishedWork } from './completion.js';

/** Keeps this worker's claims alive, and turns dead workers' expired claims into `unknown`. */
export function createLeaseKeeper(deps: { database: DatabaseHandle; workerId: string; leaseSeconds: number }) {
  const { sql } = deps.database;
  return {
    renew: () => renewLeases(sql, deps.workerId, deps.leaseSeconds),
    async sweep(): Promise<number> {
      let expired = 0;
      for (const { deployment_id: deploymentId } of await deploymentsWithExpiredClaims(sql)) {
        const touched = await sql.begin(async (tx) => {
          await lockDeployment(tx, deploymentId);
          return expireClaims(tx, deploymentId);
        });
        for (const t of touched) {
          expired += t.n;
          await sql.begin((tx) => closeFinishedWork(tx, { id: t.batch_id, deploymentId }));
        }
        await reportSettledCancel(sql, deploymentId);
      }
      // Cancelled deployments whose ledger marking was cut short (the cancelling process died).
      for (const { id } of await cancelledLedgersLeftOpen(sql, 60)) await markLedgerCancelled(sql, id, null);
      return expired;
    },
  };
}
