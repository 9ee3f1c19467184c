import type { Logger } from './logger.js';

export interface Periodic {
  /** Stops the timer and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

/**
 * Runs a task every `ms`, never two at once (a slow run skips the ticks it overlaps); a failing
 * run is logged and the next one tries again. The timer does not keep the process alive.
 */
export function runEvery(ms: number, name: string, task: () => Promise<unknown>, logger: Logger): Periodic {
  let running: Promise<void> | undefined;
  let stopped = false;
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = task()
      .then(() => undefined)
      .catch((error) => logger.warn({ err: error, task: name }, 'periodic task failed'))
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
