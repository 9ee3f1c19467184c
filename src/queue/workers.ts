import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { z } from 'zod';
import type { BatchJob, PrefetchJob, SendJob } from '../domain/send-jobs.js';
import type { Logger } from '../lib/logger.js';
import type { BatchOutcome } from '../services/sending/batch-job.js';
import type { PrefetchOutcome } from '../services/sending/prefetch-job.js';
import type { SendJobResult } from '../services/sending/send-job.js';
import { batchJob, prefetchJob, QUEUES, sendJob } from './jobs.js';
import { superviseWorker } from './worker-backoff.js';

/**
 * The BullMQ workers of a sending process: each takes a job off its queue, checks its payload and
 * hands it to the processor it was given (the services' prefetch, batch trigger and send job).
 * A payload that does not parse fails at once (UnrecoverableError): a retry would read the same
 * bytes. A send job held back (a batch's share of this worker is full, or the worker is stopping)
 * is put back as delayed, not failed.
 */

export interface SendingProcessors {
  prefetch(deploymentId: string): Promise<PrefetchOutcome>;
  /** Right after a prefetch: batches due now need not wait for the scheduler's next tick. */
  schedule(): Promise<unknown>;
  trigger(job: BatchJob): Promise<BatchOutcome>;
  send(job: SendJob): Promise<SendJobResult>;
}

/**
 * Send jobs of one batch a worker holds open at once. Its lanes are shared by the jobs it holds, so
 * a third job of a batch would only wait here while another worker's lanes stand idle: it is
 * handed back (delayed by HAND_BACK_MS) for a worker with room, or for this one once a job ends.
 */
const SEND_JOBS_OPEN_PER_BATCH = 2;
const HAND_BACK_MS = 100;

/** Send jobs a worker holds open at once: SEND_JOBS_OPEN_PER_BATCH of each of this many sending batches. */
const SEND_JOBS_OPEN = SEND_JOBS_OPEN_PER_BATCH * 64;

/** Puts a job back as delayed (not failed, no attempt used): BullMQ's way is to throw DelayedError. */
async function retryLater(job: Job, token: string | undefined, ms: number): Promise<never> {
  await job.moveToDelayed(Date.now() + ms, token);
  throw new DelayedError();
}

/** The job's payload, or a failure that BullMQ does not retry. */
function payloadOf<T>(schema: z.ZodType<T>, job: Job, logger: Logger): T {
  const parsed = schema.safeParse(job.data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const problem = `malformed ${job.queueName} job payload: ${issue ? `${issue.path.join('.') || 'payload'} ${issue.message}` : 'unreadable'}`;
  logger.error({ queue: job.queueName, jobId: job.id }, problem);
  throw new UnrecoverableError(problem);
}

export interface SendingWorkers {
  close(): Promise<void>;
}

export function startSendingWorkers(deps: {
  connection: ConnectionOptions;
  prefix: string;
  leaseSeconds: number;
  processors: SendingProcessors;
  shuttingDown(): boolean;
  logger: Logger;
}): SendingWorkers {
  const { processors, logger } = deps;
  // A dead worker's open send jobs (a few per batch it was sending) go back to the queue at the
  // first stalled check after their lock expires: checked at least every 5 s, so its batches
  // resume about SEND_LEASE_SECONDS after the crash.
  const openPerBatch = new Map<string, number>();
  const common = { connection: deps.connection, prefix: deps.prefix, lockDuration: deps.leaseSeconds * 1000, stalledInterval: Math.min(5000, deps.leaseSeconds * 1000), maxStalledCount: 1000 };
  const workers = [
    new Worker<PrefetchJob>(
      QUEUES.prefetch,
      async (job) => {
        const outcome = await processors.prefetch(payloadOf(prefetchJob, job, logger).deploymentId);
        if (outcome === 'prefetched') await processors.schedule();
        return outcome;
      },
      { ...common, concurrency: 1 },
    ),
    new Worker<BatchJob>(
      QUEUES.batches,
      async (job: Job<BatchJob>, token?: string) => {
        const outcome = await processors.trigger(payloadOf(batchJob, job, logger));
        if (!outcome.started && outcome.reason === 'not-ready') await retryLater(job, token, 1000);
        return outcome;
      },
      { ...common, concurrency: 4 },
    ),
    new Worker<SendJob>(
      QUEUES.send,
      async (job: Job<SendJob>, token?: string) => {
        const data = payloadOf(sendJob, job, logger);
        const held = openPerBatch.get(data.batchId) ?? 0;
        if (held >= SEND_JOBS_OPEN_PER_BATCH) await retryLater(job, token, HAND_BACK_MS);
        openPerBatch.set(data.batchId, held + 1);
        let result: SendJobResult;
        try {
          result = await processors.send(data);
        } finally {
          const left = (openPerBatch.get(data.batchId) ?? 1) - 1;
          if (left > 0) openPerBatch.set(data.batchId, left);
          else openPerBatch.delete(data.batchId);
        }
        // Unfinished because this worker is stopping: back to the queue for the next one.
        if (!result.finished && deps.shuttingDown()) await retryLater(job, token, 500);
        return result;
      },
      // Every sending batch has a few jobs queued at a time (SEND_JOBS_AHEAD), so a worker can hold
      // the jobs of many deployments open at once; their lanes share the slots fairly (lane-slots),
      // and a new deployment's first job is taken at once, whatever else is sending.
      { ...common, concurrency: SEND_JOBS_OPEN },
    ),
  ];
  const backoffs = workers.map((worker) => superviseWorker(worker, logger));
  return {
    async close() {
      for (const backoff of backoffs) backoff.stop();
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
