import { STATUS, TERMINAL_STATUSES, targetOf, type CampaignStatus } from '../../domain/lifecycle.js';
import type { SqlExecutor } from '../client.js';
import { sqlList, sqlValue } from '../sql-values.js';

/** Completion: a batch and then its deployment complete once everything is settled; the campaign follows. */
/** A batch is done when every recipient has a final status and nothing is in flight. */
export async function completeBatchIfDone(sql: SqlExecutor, batchId: string): Promise<boolean> {
  const rows = await sql`
    update batches set status = ${sqlValue(sql, STATUS.completed)}, completed_at = now(), updated_at = now()
    where id = ${batchId} and status = ${sqlValue(sql, STATUS.sending)} and in_flight_count = 0
      and sent_count + bounced_count + failed_count + unknown_count + cancelled_count >= total_count
    returning 1`;
  return rows.length === 1;
}

/** A deployment is done when all its batches are (completed or cancelled) and it was sending. */
export async function completeDeploymentIfDone(sql: SqlExecutor, deploymentId: string): Promise<string | undefined> {
  const [row] = await sql<{ campaign_id: string }[]>`
    update deployments set status = ${sqlValue(sql, targetOf('complete'))}, completed_at = now(), updated_at = now()
    where id = ${deploymentId} and status = ${sqlValue(sql, STATUS.sending)} and in_flight_count = 0
      and not exists (select 1 from batches where deployment_id = ${deploymentId} and status not in ${sqlList(sql, TERMINAL_STATUSES)})
    returning campaign_id`;
  return row?.campaign_id;
}

export async function deploymentStatuses(sql: SqlExecutor, campaignId: string) {
  return sql<{ status: string }[]>`select status from deployments where campaign_id = ${campaignId}`;
}

/** Cancelled is final: a campaign's status follows its deployments only until it is cancelled. */
export async function setCampaignStatus(sql: SqlExecutor, campaignId: string, status: CampaignStatus): Promise<void> {
  await sql`update campaigns set status = ${status}, updated_at = now() where id = ${campaignId} and status <> ${status} and status <> ${sqlValue(sql, STATUS.cancelled)}`;
}
