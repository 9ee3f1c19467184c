import type { SqlExecutor } from '../client.js';

/**
 * The row locks every writer of a deployment takes first, inside its transaction: one lock order
 * (deployments in id order, then the campaign, then batches, then ledger rows) means no two
 * writers (claim, settle, sweep, pause, resume, cancel, provider feedback) can deadlock.
 */
export interface LockedDeployment {
  id: string;
  campaign_id: string;
  name: string;
  status: string;
  total_count: number;
  in_flight_count: number;
  sent_count: number;
  bounced_count: number;
  failed_count: number;
  unknown_count: number;
  cancelled_count: number;
  cancelled_by: string | null;
  cancelled_at: string | null;
  paused_by: string | null;
}

/**
 * Locks one deployment, some, or all of a campaign's, always in id order: pause, resume, cancel
 * and provider feedback all lock through here, so no two of them can deadlock.
 */
export async function lockDeployments(sql: SqlExecutor, where: { deploymentId?: string; campaignId?: string; deploymentIds?: string[] }): Promise<LockedDeployment[]> {
  if (where.deploymentIds) {
    if (where.deploymentIds.length === 0) return [];
    return sql<LockedDeployment[]>`select * from deployments where id = any(${where.deploymentIds}::text[]) order by id for update`;
  }
  return where.deploymentId
    ? sql<LockedDeployment[]>`select * from deployments where id = ${where.deploymentId} for update`
    : sql<LockedDeployment[]>`select * from deployments where campaign_id = ${where.campaignId!} order by id for update`;
}

/** The campaign row, after its deployments (the same order everywhere). */
export async function lockCampaign(sql: SqlExecutor, campaignId: string) {
  const [row] = await sql<{ id: string; name: string; kind: 'single' | 'multi'; status: string; locked_by: string | null; locked_at: string | null; cancelled_by: string | null; cancelled_at: string | null }[]>`
    select id, name, kind, status, locked_by, locked_at, cancelled_by, cancelled_at from campaigns where id = ${campaignId} for update`;
  return row;
}

/**
 * Every writer of a deployment's ledger or books (claim, settle, release, sweep, pause, cancel)
 * first takes this lock on the deployment row, inside its transaction. One lock order (deployment,
 * then batches, then ledger rows) means no deadlocks between workers; and a claim can never
 * slip past a pause or cancel: once the status change commits, the next claim sees it.
 */
export async function lockDeployment(sql: SqlExecutor, deploymentId: string): Promise<string | undefined> {
  const [row] = await sql<{ status: string }[]>`select status from deployments where id = ${deploymentId} for no key update`;
  return row?.status;
}
