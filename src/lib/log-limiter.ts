import { diskFullError } from './dependency-errors.js';
import type { Logger } from './logger.js';

/**
 * Log lines for a fault that repeats (Redis refusing writes, Postgres gone): the first line of a
 * cause is written at once; repeats of it within `intervalMs` are only counted, and the next line
 * of that cause says how many were left out (`repeats`). So a loop failing thousands of times a
 * second writes one line per cause per interval, on a disk that may be the thing that is full.
 */
export interface LogLimiter {
  warn(cause: string, fields: Record<string, unknown>, message: string): void;
}

const MAX_CAUSES = 1000;

/** A cause for an error: "disk full" for a full disk, else its code (ECONNREFUSED…) or the start of its first line (MISCONF…). */
export function causeOf(error: unknown): string {
  if (diskFullError(error)) return 'disk full';
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' || typeof code === 'number') return String(code);
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? '').slice(0, 80);
}

export function createLogLimiter(logger: Logger, intervalMs = 10_000, now: () => number = Date.now): LogLimiter {
  type Cause = { loggedAt: number; repeats: number; last?: { fields: Record<string, unknown>; message: string }; timer?: NodeJS.Timeout };
  const causes = new Map<string, Cause>();
  // At the end of an interval with repeats, one line with their count (and the last one's details).
  const flush = (cause: string, entry: Cause) => {
    entry.timer = undefined;
    if (entry.repeats === 0 || !entry.last) return;
    const at = now();
    logger.warn({ ...entry.last.fields, cause, repeats: entry.repeats, repeatsOverMs: at - entry.loggedAt }, entry.last.message);
    entry.loggedAt = at;
    entry.repeats = 0;
  };
  return {
    warn(cause, fields, message) {
      const at = now();
      const seen = causes.get(cause);
      if (seen && at - seen.loggedAt < intervalMs) {
        seen.repeats++;
        seen.last = { fields, message };
        seen.timer ??= setTimeout(() => flush(cause, seen), seen.loggedAt + intervalMs - at).unref();
        return;
      }
      if (seen?.repeats) {
        // An interval ended with repeats its timer has not written yet: this one joins them.
        clearTimeout(seen.timer);
        seen.repeats++;
        seen.last = { fields, message };
        flush(cause, seen);
        return;
      }
      if (!seen && causes.size >= MAX_CAUSES) causes.delete(causes.keys().next().value!);
      causes.set(cause, { loggedAt: at, repeats: 0 });
      logger.warn({ ...fields, cause }, message);
    },
  };
}
