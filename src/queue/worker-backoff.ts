import type { Worker } from 'bullmq';
import type { Logger } from '../lib/logger.js';
import { causeOf, createLogLimiter } from '../lib/log-limiter.js';

/**
 * Backoff for a BullMQ worker whose Redis answers with errors instead of jobs. BullMQ waits
 * between attempts only for connection errors; an error Redis answers with (MISCONF when it cannot
 * write its snapshot, as on a full disk; OOM; READONLY) made its fetch loop retry at once,
 * thousands of times a second, each logged. On such an error the worker stops fetching for a
 * while (1 s, doubling to 30 s; jobs it is running carry on) and then tries again; a job
 * completed, or a queue found empty, resets the wait. Errors and failed jobs are logged one line
 * per queue and cause per interval, with the count of repeats.
 */
export interface WorkerBackoff {
  /** Before the worker closes: no resume after it. */
  stop(): void;
}

export function superviseWorker(worker: Worker, logger: Logger, options: { minMs?: number; maxMs?: number } = {}): WorkerBackoff {
  const minMs = options.minMs ?? 1000;
  const maxMs = options.maxMs ?? 30_000;
  const limited = createLogLimiter(logger);
  let waitMs = minMs;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const backOff = () => {
    if (timer || stopped) return;
    const ms = waitMs;
    waitMs = Math.min(maxMs, waitMs * 2);
    // Not waiting for running jobs: they finish on their own; only fetching stops.
    void worker.pause(true).catch(() => undefined);
    timer = setTimeout(() => {
      timer = undefined;
      if (!stopped) worker.resume();
    }, ms);
    timer.unref();
  };
  const reset = () => {
    waitMs = minMs;
  };

  worker.on('error', (error) => {
    limited.warn(`${worker.name}:${causeOf(error)}`, { err: error, queue: worker.name, retryInMs: timer ? undefined : waitMs }, 'worker error; fetching paused for a while');
    backOff();
  });
  worker.on('failed', (job, error) => limited.warn(`${worker.name}:failed:${causeOf(error)}`, { err: error, queue: worker.name, jobId: job?.id }, 'job failed'));
  worker.on('completed', reset);
  worker.on('drained', reset);

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
