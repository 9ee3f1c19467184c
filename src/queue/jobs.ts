import { z } from 'zod';

/**
 * Queue names, job payloads (validated on both ends) and deterministic job ids: a job enqueued
 * twice (a retried enqueue, two schedulers) is the same job. BullMQ job ids may not contain ':'.
 */
export const QUEUES = { prefetch: 'prefetch', batches: 'batches', send: 'send' } as const;

export const prefetchJob = z.object({ deploymentId: z.string() });
export type PrefetchJob = z.infer<typeof prefetchJob>;

export const batchJob = z.object({ batchId: z.string(), deploymentId: z.string(), generation: z.number().int() });
export type BatchJob = z.infer<typeof batchJob>;

export const sendJob = z.object({
  deploymentId: z.string(),
  batchId: z.string(),
  fromSeq: z.number().int(),
  toSeq: z.number().int(),
  generation: z.number().int(),
});
export type SendJob = z.infer<typeof sendJob>;

/** Recipients per send job: big enough to keep jobs few, small enough to spread over workers. */
export const RECIPIENTS_PER_SEND_JOB = 250;

export const jobIds = {
  prefetch: (deploymentId: string) => `prefetch-${deploymentId}`,
  batch: (batchId: string, generation: number) => `batch-${batchId}-g${generation}`,
  send: (batchId: string, fromSeq: number, generation: number) => `send-${batchId}-${fromSeq}-g${generation}`,
};

/** A batch's send jobs: one per RECIPIENTS_PER_SEND_JOB of its seq range, starting at `fromSeqs` (all of them by default). */
export function sendJobsFor(batch: { batchId: string; deploymentId: string; firstSeq: number; lastSeq: number; generation: number }, fromSeqs?: number[]) {
  const starts = fromSeqs ?? Array.from({ length: Math.ceil((batch.lastSeq - batch.firstSeq + 1) / RECIPIENTS_PER_SEND_JOB) }, (_, i) => batch.firstSeq + i * RECIPIENTS_PER_SEND_JOB);
  return starts.map((from) => {
    const data: SendJob = { deploymentId: batch.deploymentId, batchId: batch.batchId, fromSeq: from, toSeq: Math.min(batch.lastSeq, from + RECIPIENTS_PER_SEND_JOB - 1), generation: batch.generation };
    return { name: 'send', data, opts: { jobId: jobIds.send(batch.batchId, from, batch.generation) } };
  });
}
