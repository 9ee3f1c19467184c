/**
 * What Slack already delivered, remembered for as long as it could be accepted again, so that a
 * replay or a retry is not acted on twice: a signed HTTP request until its timestamp leaves the
 * signature window (not a fixed time from when we saw it: a timestamp ahead of our clock would
 * outlive a fixed window), a Socket Mode envelope for a fixed while. Per process and bounded:
 * when full, expired entries go first, then the oldest.
 */
export type ReplayGuard = (key: string, untilMs: number, nowMs?: number) => boolean;

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
