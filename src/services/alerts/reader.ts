import type { SqlExecutor } from '../../db/client.js';

/** The alerts of some deployments, newest first: what the CLI and the demo show. */
export function createAlertReader(deps: { sql: SqlExecutor }) {
  return {
    async forDeployments(deploymentIds: string[]) {
      if (deploymentIds.length === 0) return [];
      return deps.sql<{ id: string; deployment_id: string; metric: string; severity: string; state: string; rate: number; sample: number }[]>`
        select id, deployment_id, metric, severity, state, rate, sample from alerts
        where deployment_id = any(${deploymentIds}::text[]) order by opened_at desc`;
    },
  };
}
