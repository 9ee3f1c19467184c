import { sleep } from '../../lib/processes.js';

/**
 * This worker's view of the SMTP relay as a whole, shared by all its lanes: a circuit breaker.
 * While the relay fails (login refused, TLS, connection refused, …) one lane at a time probes it,
 * after a backoff that grows from `backoffMs.first` to `backoffMs.most`; the others wait, holding
 * no claim. Any answer about a message (sent, bounced, a 4xx at RCPT, …) closes the breaker. A
 * fault that lasts `persistAfterMs` without one answer in between is persistent: `onPersistent`
 * is called once for it, on time (a timer, not the next probe: the sending deployments are paused),
 * and the clock starts again at the next fault, so a relay still broken after a resume is paused
 * again after the same time.
 */
export interface RelayFaultReport {
  cause: string;
  code: number | undefined;
}

export interface RelayHealth {
  /** Waits until a lane may try the relay; false when `stopped()` became true meanwhile. */
  usable(stopped: () => boolean): Promise<boolean>;
  /** The relay failed as a whole. */
  fault(report: RelayFaultReport): void;
  /** The relay answered about a message (whatever the answer). */
  answered(): void;
  /** A try that produced no answer either way (the message was withdrawn): the probe is free again. */
  untried(): void;
  /** The fault in progress, if any. */
  current(): { since: number; last: RelayFaultReport } | undefined;
  /** Stops the persistence timer (the worker is stopping). */
  close(): void;
}

export function createRelayHealth(deps: {
  persistAfterMs: number;
  onPersistent: (report: RelayFaultReport, atMs: number) => void;
  /** The first fault after the relay last answered (for the log). */
  onStarted?: (report: RelayFaultReport) => void;
  /** The relay answered again after faults (for the log). */
  onRecovered?: () => void;
  backoffMs?: { first: number; most: number };
  now?: () => number;
}): RelayHealth {
  const now = deps.now ?? Date.now;
  const backoff = deps.backoffMs ?? { first: 250, most: 5000 };
  let since: number | undefined;
  let last: RelayFaultReport | undefined;
  let faults = 0;
  let retryAt = 0;
  let lastFaultAt = 0;
  let probing = false;
  let probingSince = 0;
  let persistence: NodeJS.Timeout | undefined;

  const stopClock = () => {
    clearTimeout(persistence);
    persistence = undefined;
    since = undefined;
  };

  return {
    async usable(stopped) {
      for (;;) {
        if (stopped()) return false;
        if (last === undefined) return true;
        const wait = retryAt - now();
        // A probe that never reported back (its lane died) stops blocking after two minutes.
        if (wait <= 0 && (!probing || now() - probingSince > 120_000)) {
          probing = true;
          probingSince = now();
          return true;
        }
        await sleep(Math.min(Math.max(wait, 20), 200));
      }
    },
    fault(report) {
      probing = false;
      faults++;
      if (last === undefined) deps.onStarted?.(report);
      last = report;
      const at = now();
      lastFaultAt = at;
      retryAt = at + Math.min(backoff.most, backoff.first * 2 ** Math.min(faults - 1, 16));
      if (since !== undefined) return;
      since = at;
      persistence = setTimeout(() => {
        const persisting = last;
        stopClock();
        // Nobody has tried the relay for longer than a backoff: no one is sending, nothing to pause.
        if (!persisting || now() - lastFaultAt > 2 * backoff.most + 1000) {
          last = undefined;
          faults = 0;
          return;
        }
        deps.onPersistent(persisting, now());
      }, deps.persistAfterMs);
      persistence.unref?.();
    },
    answered() {
      probing = false;
      if (last !== undefined) deps.onRecovered?.();
      faults = 0;
      stopClock();
      last = undefined;
      retryAt = 0;
    },
    untried() {
      probing = false;
    },
    current: () => (last ? { since: since ?? now(), last } : undefined),
    close: stopClock,
  };
}
