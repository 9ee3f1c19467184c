import { campaignStatusFromDeployments, type DeploymentStatus } from '../../domain/lifecycle.js';
import type { SqlExecutor } from '../../db/client.js';
import { completeBatchIfDone, completeDeploymentIfDone, deploymentStatuses, setCampaignStatus } from '../../db/queries/completion.js';
import { lockCampaign, lockDeployment } from '../../db/queries/deployment-locks.js';
import { enqueuePagerFollowUp } from '../../db/queries/pager-outbox.js';
import { enqueueAlertEdits } from '../../db/queries/slack-outbox.js';

/**
 * Completion of sent work: once rows settle, a batch with nothing left completes, a deployment
 * whose batches are all done completes, and its campaign's status follows its deployments.
 */

/** After settled rows (a send job, the lease sweeper, a cancelled batch): completes what is done. */
export async function closeFinishedWork(sql: SqlExecutor, batch: { id: string; deploymentId: string }): Promise<void> {
  await lockDeployment(sql, batch.deploymentId);
  if (!(await completeBatchIfDone(sql, batch.id))) return;
  const campaignId = await completeDeploymentIfDone(sql, batch.deploymentId);
  if (!campaignId) return;
  await refreshCampaignStatus(sql, campaignId);
  // Its alert messages lose their buttons (inserts nothing when it has no alert).
  await enqueueAlertEdits(sql, [batch.deploymentId], 'completed');
  await enqueuePagerFollowUp(sql, { deploymentIds: [batch.deploymentId] }, 'resolve');
}

/**
 * The campaign row is locked before its deployments' statuses are read (callers hold their
 * deployments' locks: deployment, then campaign, as the cancel takes them): two deployments of a
 * campaign ending at once would otherwise each read the other as still sending, and the campaign
 * would stay `sending` with all of them done.
 */
export async function refreshCampaignStatus(sql: SqlExecutor, campaignId: string): Promise<void> {
  await lockCampaign(sql, campaignId);
  const statuses = (await deploymentStatuses(sql, campaignId)).map((r) => r.status as DeploymentStatus);
  await setCampaignStatus(sql, campaignId, campaignStatusFromDeployments(statuses));
}
