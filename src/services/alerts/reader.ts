import type { SqlExecutor } from '../../db/client.js';
import { openAlertsOnCall } from '../../db/queries/on-call.js';

/** The alerts of some deployments, newest first (what the CLI and the demo show), and the open ones with who is on them (App Home). */
export function createAlertReader(deps: { sql: SqlExecutor }) {
  return {
    openOnCall: () => openAlertsOnCall(deps.sql),
    async forDeployments(deploymentIds: string[]) {
      if (deploymentIds.length === 0) return [];
      return deps.sql<{ id: string; deployment_id: string; metric: string; severity: string; state: string; rate: number; sample: number }[]>`
        select id, deployment_id, metric, severity, state, rate, sample from alerts
        where deployment_id = any(${deploymentIds}::text[]) order by opened_at desc`;
    },
  };
}

export type AlertReader = ReturnType<typeof createAlertReader>;
