import type postgres from 'postgres';
import { markBatchTriggered, startBatch } from '../../db/queries/sending.js';
import { sendJobsFor, type BatchJob, type SendJob } from '../../queue/jobs.js';
import { closeFinishedWork } from './books.js';

/**
 * A batch's trigger, at its send time: starts the batch if its deployment may send, and queues
 * its send jobs (one per few hundred recipients, deterministic ids, one addBulk). Run again for a
 * resume (a new generation), it queues the same ranges; rows already sent are simply not claimed.
 */
export type BatchOutcome = { started: false; reason: 'not-ready' | 'not-sendable' } | { started: true; jobs: number };

export interface SendQueue {
  addBulk(jobs: { name: string; data: SendJob; opts: { jobId: string } }[]): Promise<unknown>;
}

export function createBatchProcessor(deps: { sql: postgres.Sql; sendQueue: SendQueue }) {
  return async function trigger(job: BatchJob): Promise<BatchOutcome> {
    const [state] = await deps.sql<{ status: string }[]>`select status from deployments where id = ${job.deploymentId}`;
    if (state && ['scheduled', 'prefetching'].includes(state.status)) return { started: false, reason: 'not-ready' };
    const batch = await startBatch(deps.sql, job.batchId);
    if (!batch) return { started: false, reason: 'not-sendable' };
    const jobs = batch.last_seq >= batch.first_seq
      ? sendJobsFor({ batchId: job.batchId, deploymentId: batch.deployment_id, firstSeq: batch.first_seq, lastSeq: batch.last_seq, generation: job.generation })
      : [];
    if (jobs.length > 0) await deps.sendQueue.addBulk(jobs);
    await markBatchTriggered(deps.sql, job.batchId, job.generation);
    if (jobs.length === 0) await deps.sql.begin((tx) => closeFinishedWork(tx, { id: job.batchId, deploymentId: batch.deployment_id }));
    return { started: true, jobs: jobs.length };
  };
}
