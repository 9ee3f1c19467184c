import type { Redis } from 'ioredis';
import { sleep } from '../lib/processes.js';

/**
 * One send rate for all workers: a token bucket in Redis, refilled by Redis's own clock, with a
 * burst of a twentieth of a second's worth so the rate holds over any window of a few seconds.
 */
const TAKE = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], 60000)
local wait = 0
if granted < want then wait = math.ceil((1 - (tokens - math.floor(tokens))) * 1000 / rate) end
return {granted, wait}
`;

export interface RateLimiter {
  /** Waits until at least one of `want` tokens is granted; returns how many were. */
  take(want: number, stopped?: () => boolean): Promise<number>;
}

export function createRateLimiter(deps: { redis: Redis; prefix: string; ratePerSecond: number }): RateLimiter {
  const key = `${deps.prefix}:send-rate`;
  const burst = Math.max(1, Math.floor(deps.ratePerSecond / 20));
  return {
    async take(want, stopped) {
      for (;;) {
        if (stopped?.()) return 0;
        let granted: number;
        let wait: number;
        try {
          [granted, wait] = (await deps.redis.eval(TAKE, 1, key, deps.ratePerSecond, burst, Math.max(1, want))) as [number, number];
        } catch {
          // Redis unreachable: no token, no send; try again shortly.
          await sleep(250);
          continue;
        }
        if (granted > 0) return granted;
        await sleep(Math.min(1000, Math.max(1, wait)));
      }
    },
  };
}
