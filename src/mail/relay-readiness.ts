import type { Logger } from '../lib/logger.js';
import type { RelayCheck } from '../services/ports.js';

/**
 * The relay as a readiness check: a session of its own (connect, TLS, EHLO, login when
 * configured) within a timeout, at start and then at most every `maxAgeMs` when a probe asks. A
 * probe gets the last answer at once while a newer one is fetched in the background, so /readyz
 * stays fast and the relay is not asked to log us in on every probe. A change is logged: a
 * failing relay at warn with its reply, its recovery at info. It plugs into any process's
 * /readyz (a `() => Promise<void>` that throws the cause).
 */
export interface RelayReadiness {
  /** Throws the relay's fault; resolves when it answered. */
  check(): Promise<void>;
  /** Asks the relay now (one probe at a time); resolves with its answer. */
  refresh(): Promise<RelayCheck>;
}

export function createRelayReadiness(deps: {
  probe: (timeoutMs: number) => Promise<RelayCheck>;
  timeoutMs: number;
  /** The relay's URL without its password, for the log. */
  relay: string;
  logger: Logger;
  maxAgeMs?: number;
  now?: () => number;
}): RelayReadiness {
  const now = deps.now ?? Date.now;
  const maxAgeMs = deps.maxAgeMs ?? 30_000;
  const log = deps.logger.child({ component: 'relay-check', relay: deps.relay });
  let last: { result: RelayCheck; at: number } | undefined;
  let running: Promise<RelayCheck> | undefined;

  const refresh = () => {
    running ??= deps
      .probe(deps.timeoutMs)
      .catch((error: unknown): RelayCheck => ({ ok: false, cause: `relay check failed: ${(error as Error).message}` }))
      .then((result) => {
        const before = last?.result;
        if (!result.ok && (before === undefined || before.ok || before.cause !== result.cause)) log.warn({ cause: result.cause }, `SMTP relay check failed: ${result.cause}`);
        if (result.ok && before && !before.ok) log.info('SMTP relay check passes again');
        last = { result, at: now() };
        return result;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  return {
    refresh,
    async check() {
      if (!last) await refresh();
      else if (now() - last.at > maxAgeMs) void refresh();
      const result = last!.result;
      if (!result.ok) throw new Error(result.cause);
    },
  };
}
