/**
 * The job model of the send pipeline: what a prefetch, batch-trigger and send job carry, how a
 * batch's range is cut into send jobs, which job a send job queues after it, and the
 * deterministic job ids (a job enqueued twice, by a retried enqueue or two schedulers, is the
 * same job; BullMQ job ids may not contain ':'). The queue adapter validates payloads against it.
 */

export interface PrefetchJob {
  deploymentId: string;
}

export interface BatchJob {
  batchId: string;
  deploymentId: string;
  generation: number;
}

export interface SendJob {
  deploymentId: string;
  batchId: string;
  fromSeq: number;
  toSeq: number;
  generation: number;
  /** The batch's last seq: where the chain of its send jobs ends (see SEND_JOBS_AHEAD). */
  lastSeq?: number | undefined;
}

/** Recipients per send job: big enough to keep jobs few, small enough to spread over workers. */
export const RECIPIENTS_PER_SEND_JOB = 250;

/**
 * Send jobs of a batch in the queue or open at once: its trigger queues the first ones, and each
 * job, once its recipients are all taken by lanes, queues the one this many places after it. So
 * the send queue holds a few jobs per sending batch, never a whole batch's: first in, first out
 * over it takes turns between batches, and a worker can hold every sending batch's jobs open and
 * share its lanes between them. Several per batch let a batch spread over several workers.
 */
export const SEND_JOBS_AHEAD = 4;

export const jobIds = {
  prefetch: (deploymentId: string) => `prefetch-${deploymentId}`,
  batch: (batchId: string, generation: number) => `batch-${batchId}-g${generation}`,
  send: (batchId: string, fromSeq: number, generation: number) => `send-${batchId}-${fromSeq}-g${generation}`,
};

/** A batch's send jobs starting at `fromSeqs` (each the first seq of a RECIPIENTS_PER_SEND_JOB slice of its range). */
export function sendJobsFor(batch: { batchId: string; deploymentId: string; lastSeq: number; generation: number }, fromSeqs: number[]) {
  return fromSeqs.map((from) => {
    const data: SendJob = {
      deploymentId: batch.deploymentId, batchId: batch.batchId, fromSeq: from, toSeq: Math.min(batch.lastSeq, from + RECIPIENTS_PER_SEND_JOB - 1),
      generation: batch.generation, lastSeq: batch.lastSeq,
    };
    return { name: 'send', data, opts: { jobId: jobIds.send(batch.batchId, from, batch.generation) } };
  });
}

/** The job a send job queues once its recipients are taken: SEND_JOBS_AHEAD slices on, if the batch reaches that far. */
export function successorOf(job: SendJob) {
  if (job.lastSeq === undefined) return []; // queued with all of its batch's jobs, before chains
  const from = job.fromSeq + SEND_JOBS_AHEAD * RECIPIENTS_PER_SEND_JOB;
  return from <= job.lastSeq ? sendJobsFor({ ...job, lastSeq: job.lastSeq }, [from]) : [];
}
