import type { Logger } from './logger.js';

/**
 * The signals that stop a process gracefully: SIGTERM (what Kubernetes, Docker, systemd and most
 * supervisors send), SIGINT (Ctrl-C), SIGHUP (the terminal or session went away; there is no
 * configuration to reload, so it is a stop too, not Node's default of dying on the spot) and
 * SIGQUIT (the stop signal some images and supervisors are configured with).
 */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const;

/**
 * Runs the registered closers in reverse order on a stop signal (or on demand), once, within a
 * deadline after which the process exits anyway: a stuck dependency must not keep it alive.
 */
export function createShutdown(logger: Logger, deadlineMs = 30_000) {
  const closers: { name: string; close: () => Promise<void> }[] = [];
  let running: Promise<void> | undefined;

  const run = (reason: string) => {
    running ??= (async () => {
      logger.info({ reason }, 'shutting down');
      const timer = setTimeout(() => {
        logger.error({ deadlineMs }, 'shutdown deadline passed; exiting');
        process.exit(1);
      }, deadlineMs);
      timer.unref();
      for (const { name, close } of closers.reverse()) {
        try {
          await close();
        } catch (error) {
          logger.warn({ err: error, name }, 'error while closing');
        }
      }
      clearTimeout(timer);
      logger.info('stopped');
    })();
    return running;
  };

  return {
    add(name: string, close: () => Promise<void>) {
      closers.push({ name, close });
    },
    run,
    onSignals(exit: (code: number) => void = (code) => process.exit(code)) {
      for (const signal of STOP_SIGNALS) {
        // Repeated signals must not cut the shutdown short (leaving embedded servers running);
        // the deadline above is what bounds it.
        process.on(signal, () => {
          if (running) {
            logger.warn({ signal }, 'already shutting down');
            return;
          }
          void run(signal).then(() => exit(0));
        });
      }
    },
  };
}
