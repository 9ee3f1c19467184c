import { Queue, type ConnectionOptions } from 'bullmq';
import type { BatchJob, PrefetchJob, SendJob } from '../domain/send-jobs.js';
import { QUEUES } from './jobs.js';

/**
 * The three queues, as producers. Completed and failed jobs are removed: every job is derived
 * from Postgres and idempotent, so the scheduler may queue the same id again when it is due
 * again (a prefetch resumed after a pause), which a kept job would silently swallow.
 */
export function createQueues(connection: ConnectionOptions, prefix: string) {
  const defaultJobOptions = {
    removeOnComplete: true,
    removeOnFail: true,
    attempts: 5,
    backoff: { type: 'exponential' as const, delay: 1000 },
  };
  const prefetch = new Queue<PrefetchJob>(QUEUES.prefetch, { connection, prefix, defaultJobOptions });
  const batches = new Queue<BatchJob>(QUEUES.batches, { connection, prefix, defaultJobOptions });
  const send = new Queue<SendJob>(QUEUES.send, { connection, prefix, defaultJobOptions });
  return {
    prefetch,
    batches,
    send,
    async close() {
      // A stop right after start (a failed start) must not cut a queue's initialisation short:
      // that leaves an unhandled "Connection is closed." behind.
      await Promise.allSettled([prefetch.waitUntilReady(), batches.waitUntilReady(), send.waitUntilReady()]);
      await Promise.all([prefetch.close(), batches.close(), send.close()]);
    },
  };
}

export type Queues = ReturnType<typeof createQueues>;
