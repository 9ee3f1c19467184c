/**
 * A double click: the same user, the same button of the same message, again within `windowMs`
 * (two requests, two trigger ids, different action_ts; 500 ms is the usual double-click interval).
 * The repeat is a no-op; the first click is answered. Per process and best effort: the database's conditional updates are the real guard
 * against doing anything twice; this only spares the clicker a second modal or message.
 */
export function recentClicks(windowMs = 500, now: () => number = Date.now) {
  const seen = new Map<string, number>();
  return {
    repeated(key: string): boolean {
      const at = now();
      for (const [k, t] of seen) if (at - t > windowMs) seen.delete(k);
      if (seen.has(key)) return true;
      seen.set(key, at);
      return false;
    },
  };
}
