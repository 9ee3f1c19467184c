import type { Logger } from '../lib/logger.js';
import { causeOf, createLogLimiter } from '../lib/log-limiter.js';

/**
 * What Slack already delivered, remembered for as long as it could be accepted again, so that a
 * replay or a retry is not acted on twice: a signed HTTP request until its timestamp leaves the
 * signature window (not a fixed time from when we saw it: a timestamp ahead of our clock would
 * outlive a fixed window), a Socket Mode envelope for a fixed while.
 *
 * Two memories: this process's (bounded: when full, expired entries go first, then the oldest),
 * and one every web process shares (Redis, which keeps it across restarts), so a request replayed
 * to another process, or after a restart, is known too. If the shared one cannot answer within
 * `timeoutMs` (Redis down), this process's memory decides alone and the database's request keys
 * still keep a control action from being done twice.
 */
export type ReplayGuard = (key: string, untilMs: number, nowMs?: number) => boolean;
export type SharedReplayGuard = (key: string, untilMs: number, nowMs?: number) => Promise<boolean>;

/** Claims `key` for `ttlMs` in the shared memory: true if this is the first claim, false if it is held. */
export type SharedClaim = (key: string, ttlMs: number) => Promise<boolean>;

export function createReplayGuard(max = 50_000): ReplayGuard {
  const seen = new Map<string, number>();
  return (key, untilMs, nowMs = Date.now()) => {
    const until = seen.get(key);
    if (until !== undefined && until > nowMs) return true;
    if (seen.size >= max) {
      for (const [k, expiry] of seen) {
        if (expiry <= nowMs || seen.size >= max) seen.delete(k);
        if (seen.size < max * 0.9) break;
      }
    }
    // Delete first so the key moves to the end (Map order is insertion order: oldest first).
    seen.delete(key);
    seen.set(key, untilMs);
    return false;
  };
}

export function createSharedReplayGuard(deps: { claim?: SharedClaim; logger: Logger; timeoutMs?: number; local?: ReplayGuard }): SharedReplayGuard {
  const local = deps.local ?? createReplayGuard();
  const timeoutMs = deps.timeoutMs ?? 250;
  const limited = createLogLimiter(deps.logger.child({ component: 'slack-replay-guard' }));
  return async (key, untilMs, nowMs = Date.now()) => {
    if (local(key, untilMs, nowMs)) return true;
    if (!deps.claim) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const first = await Promise.race([
        deps.claim(key, Math.max(1, untilMs - nowMs)),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs))),
      ]);
      return !first;
    } catch (error) {
      limited.warn(causeOf(error), { err: error }, 'the shared replay memory (Redis) did not answer: this process remembers the request alone');
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
}
