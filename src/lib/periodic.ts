import { causeOf, createLogLimiter } from './log-limiter.js';
import type { Logger } from './logger.js';

export interface Periodic {
  /** Stops the timer and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

/**
 * Runs a task every `ms`, never two at once (a slow run skips the ticks it overlaps); a failing
 * run is logged (one line per cause per interval, with a count: a Postgres outage must not flood
 * the log) and the next one tries again. The timer does not keep the process alive.
 */
export function runEvery(ms: number, name: string, task: () => Promise<unknown>, logger: Logger): Periodic {
  const limited = createLogLimiter(logger);
  let running: Promise<void> | undefined;
  let stopped = false;
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = task()
      .then(() => undefined)
      .catch((error) => limited.warn(causeOf(error), { err: error, task: name }, 'periodic task failed'))
      .finally(() => {
        running = undefined;
      });
  }, ms);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
