import type postgres from 'postgres';
import { AWAITING_PREFETCH } from '../../domain/lifecycle.js';
import { firstPendingSeq, startBatch } from '../../db/queries/batch-start.js';
import { deploymentStatus } from '../../db/queries/deployments.js';
import { markBatchTriggered } from '../../db/queries/send-scheduling.js';
import { RECIPIENTS_PER_SEND_JOB, SEND_JOBS_AHEAD, sendJobsFor, type BatchJob } from '../../domain/send-jobs.js';
import type { SendQueue } from '../ports.js';
import { closeFinishedWork } from './completion.js';

/**
 * A batch's trigger, at its send time: starts the batch if its deployment may send, and queues
 * its first send jobs (a few hundred recipients each, deterministic ids, one addBulk), from the
 * first recipient still pending; each job queues the next (see SEND_JOBS_AHEAD). Run again for a
 * resume (a new generation), it starts where the batch had got to; rows already sent are never
 * claimed again.
 */
export type BatchOutcome = { started: false; reason: 'not-ready' | 'not-sendable' } | { started: true; jobs: number };

export function createBatchProcessor(deps: { sql: postgres.Sql; sendQueue: Pick<SendQueue, 'addBulk'> }) {
  return async function trigger(job: BatchJob): Promise<BatchOutcome> {
    const status = await deploymentStatus(deps.sql, job.deploymentId);
    if (status && (AWAITING_PREFETCH as readonly string[]).includes(status)) return { started: false, reason: 'not-ready' };
    const batch = await startBatch(deps.sql, job.batchId);
    if (!batch) return { started: false, reason: 'not-sendable' };
    const from = batch.last_seq >= batch.first_seq ? await firstPendingSeq(deps.sql, { deploymentId: batch.deployment_id, batchId: job.batchId, fromSeq: batch.first_seq, toSeq: batch.last_seq }) : undefined;
    // Slices stay aligned to the batch's first seq, so a job's id names the same range whoever queues it.
    const firstSlice = from === undefined ? undefined : batch.first_seq + Math.floor((from - batch.first_seq) / RECIPIENTS_PER_SEND_JOB) * RECIPIENTS_PER_SEND_JOB;
    const starts = firstSlice === undefined ? [] : Array.from({ length: SEND_JOBS_AHEAD }, (_, i) => firstSlice + i * RECIPIENTS_PER_SEND_JOB).filter((s) => s <= batch.last_seq);
    const jobs = sendJobsFor({ batchId: job.batchId, deploymentId: batch.deployment_id, lastSeq: batch.last_seq, generation: job.generation }, starts);
    if (jobs.length > 0) await deps.sendQueue.addBulk(jobs);
    await markBatchTriggered(deps.sql, job.batchId, job.generation);
    if (jobs.length === 0) await deps.sql.begin((tx) => closeFinishedWork(tx, { id: job.batchId, deploymentId: batch.deployment_id }));
    return { started: true, jobs: jobs.length };
  };
}
