import {
  canPause,
  canResume,
  nextDeploymentStatus,
  PAUSABLE,
  STATUS,
  type DeploymentStatus,
  type LifecycleRefusal,
} from '../../domain/lifecycle.js';
import { acknowledgesAlerts } from '../../domain/on-call.js';
import { ok, refused, type Result } from '../../domain/result.js';
import type postgres from 'postgres';
import { inTransaction, type DatabaseHandle, type SqlExecutor } from '../../db/client.js';
import { auditByRequestKey, recordAudit } from '../../db/queries/audit.js';
import { lockDeployments } from '../../db/queries/deployment-locks.js';
import { acknowledgeAlerts } from '../../db/queries/on-call.js';
import { pauseDeployments, resumeDeployment, resumeFacts, sendingBatchIds } from '../../db/queries/pauses.js';
import { enqueueAlertEdits, enqueueDeploymentFault } from '../../db/queries/slack-outbox.js';
import { jobIds, type BatchJob } from '../../domain/send-jobs.js';
import type { BatchQueue, StopAnnouncer } from '../ports.js';
import { refreshCampaignStatus } from './completion.js';

/**
 * Pause and resume, the reversible tools. A pause is one conditional update in Postgres (after
 * which no claim can succeed), then a stop announcement so workers stop handing over at once. A
 * resume puts the deployment back where it was and re-queues the triggers of batches that were
 * sending, under a new generation of job ids; rows already sent are never claimed again.
 * Permission checks are the cancellation service's (they wrap these).
 */
export type PauseRefusal = 'not_found' | LifecycleRefusal;

export interface PauseOutcome {
  deploymentIds: string[];
  /** The request key was seen before: this is the first request's outcome, and nothing was done again. */
  replayed?: boolean;
}

/**
 * A request key already recorded (a retried or replayed request, the same Slack click again): the
 * first request's outcome. Checked after the deployments are locked, so two copies of one request
 * take turns and the second finds the first's audit row.
 */
async function replayOf(sql: SqlExecutor, requestKey: string | undefined): Promise<PauseOutcome | undefined> {
  if (!requestKey) return undefined;
  const row = await auditByRequestKey(sql, requestKey);
  return row ? { deploymentIds: (row.details.deploymentIds as string[] | undefined) ?? [], replayed: true } : undefined;
}

/** A deployment, a campaign's deployments, or a list of deployments (those paused by `pausedBy` only, for a resume). */
export interface PauseTarget {
  deploymentId?: string;
  campaignId?: string;
  deploymentIds?: string[];
  pausedBy?: string;
}

/**
 * More work in the pause's or resume's own transaction, given the deployments that changed (a
 * relay fault's record and alert); it may name what the audit row is about.
 */
export type WithinControl = (sql: postgres.TransactionSql, deploymentIds: string[]) => Promise<{ targetType: string; targetId: string } | void>;

export interface ControlOptions {
  requestKey?: string;
  fault?: string;
  within?: WithinControl;
}

const auditTarget = (target: PauseTarget) => ({ targetType: target.deploymentId ? 'deployment' : 'campaign', targetId: target.deploymentId ?? target.campaignId ?? '' });
const campaignsOf = (rows: { campaign_id: string }[]) => [...new Set(rows.map((r) => r.campaign_id))];

export function createPauseResume(deps: { database: DatabaseHandle; announcer: StopAnnouncer; batchQueue?: BatchQueue }) {
  return {
    /**
     * `requestKey`: the same key again returns the first outcome and changes nothing. `fault`: why
     * Campaign Guard itself pauses a deployment; posted to the alert channel with the pause.
     * `within`: more work in the pause's own transaction.
     */
    async pause(target: PauseTarget, actor: string, options: ControlOptions = {}): Promise<Result<PauseOutcome, PauseRefusal>> {
      const { requestKey, fault, within } = options;
      const outcome = await inTransaction(deps.database, async (tx, sql): Promise<Result<PauseOutcome, PauseRefusal>> => {
        const rows = await lockDeployments(sql, target);
        if (rows.length === 0) return refused('not_found', 'No such deployment or campaign.');
        const replay = await replayOf(sql, requestKey);
        if (replay) return ok(replay);
        const pausable = rows.filter((r) => (PAUSABLE.single as readonly string[]).includes(r.status));
        if (pausable.length === 0) {
          const check = canPause('single', (rows[0]!.status as DeploymentStatus));
          return check.ok ? refused('not_cancellable', 'Nothing to pause.') : check;
        }
        const ids = pausable.map((r) => r.id);
        await pauseDeployments(sql, ids, actor);
        for (const campaignId of campaignsOf(pausable)) await refreshCampaignStatus(sql, campaignId);
        await enqueueAlertEdits(sql, ids, 'paused');
        // A responder's pause acknowledges the alerts (Campaign Guard's own auto-pause does not).
        if (acknowledgesAlerts(actor)) await acknowledgeAlerts(sql, { deploymentIds: ids }, actor);
        for (const id of fault ? ids : []) await enqueueDeploymentFault(sql, id, fault!);
        const about = (await within?.(sql, ids)) ?? auditTarget(target);
        await recordAudit(tx, { actor, action: 'pause', ...about, outcome: 'ok', details: { deploymentIds: ids, ...(fault ? { fault } : {}) }, requestKey });
        return ok({ deploymentIds: ids });
      });
      if (outcome.ok && !outcome.value.replayed) await deps.announcer.announce(outcome.value.deploymentIds, 'paused');
      return outcome;
    },

    async resume(target: PauseTarget, actor: string, options: Omit<ControlOptions, 'fault'> = {}): Promise<Result<PauseOutcome, PauseRefusal>> {
      const { requestKey, within } = options;
      const retrigger: BatchJob[] = [];
      const outcome = await inTransaction(deps.database, async (tx, sql): Promise<Result<PauseOutcome, PauseRefusal>> => {
        const rows = await lockDeployments(sql, target);
        if (rows.length === 0) return refused('not_found', 'No such deployment or campaign.');
        const replay = await replayOf(sql, requestKey);
        if (replay) return ok(replay);
        const paused = rows.filter((r) => r.status === STATUS.paused && (target.pausedBy === undefined || r.paused_by === target.pausedBy));
        if (paused.length === 0) {
          const check = canResume('single', (rows[0]!.status as DeploymentStatus));
          return check.ok ? refused('not_paused', 'It is not paused.') : check;
        }
        for (const row of paused) {
          const facts = await resumeFacts(sql, row.id);
          const status = nextDeploymentStatus(STATUS.paused, 'resume', { prefetched: facts.prefetched, sendAtReached: facts.started })!;
          await resumeDeployment(sql, row.id, status, facts.generation);
          if (status === STATUS.sending) {
            for (const batchId of await sendingBatchIds(sql, row.id)) retrigger.push({ batchId, deploymentId: row.id, generation: facts.generation });
          }
        }
        for (const campaignId of campaignsOf(paused)) await refreshCampaignStatus(sql, campaignId);
        const ids = paused.map((r) => r.id);
        await enqueueAlertEdits(sql, ids, 'resumed');
        if (acknowledgesAlerts(actor)) await acknowledgeAlerts(sql, { deploymentIds: ids }, actor);
        const about = (await within?.(sql, ids)) ?? auditTarget(target);
        await recordAudit(tx, { actor, action: 'resume', ...about, outcome: 'ok', details: { deploymentIds: ids }, requestKey });
        return ok({ deploymentIds: ids });
      });
      if (outcome.ok && !outcome.value.replayed) {
        await deps.announcer.announce(outcome.value.deploymentIds, 'resumed');
        // Postgres decided; if Redis is down the batches' triggers are queued again by the scheduler.
        for (const job of retrigger) await deps.batchQueue?.add('batch', job, { jobId: jobIds.batch(job.batchId, job.generation) }).catch(() => undefined);
      }
      return outcome;
    },
  };
}
