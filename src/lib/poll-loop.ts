import { causeOf, createLogLimiter } from './log-limiter.js';
import type { Logger } from './logger.js';

/**
 * The loop of an outbox deliverer: runs `pass` again at once while it finds work, otherwise waits
 * `pollMs` or until kicked (something was just written); a failing pass is logged (one line per
 * cause per interval: a Postgres outage must not flood the log) and the next one tries again.
 */
export function createPollLoop(pass: () => Promise<number>, options: { pollMs: number; logger: Logger; failure: string }) {
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  return {
    start() {
      if (running) return;
      running = true;
      const failures = createLogLimiter(options.logger);
      loop = (async () => {
        while (running) {
          let found = 0;
          try {
            found = await pass();
          } catch (error) {
            failures.warn(causeOf(error), { err: error }, options.failure);
          }
          if (found === 0 && running) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, options.pollMs);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
            wake = undefined;
          }
        }
      })();
    },
    kick() {
      wake?.();
    },
    /** Stops looping and waits for the pass in progress to finish. */
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}

/**
 * A write recording what an outside system already has (losing it would send it again), tried a
 * few times (200 ms, 400 ms, … apart) before the caller has to remember it.
 */
export async function insist<T>(write: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
