import type { RedisClient } from './redis.js';
import { sleep } from '../lib/processes.js';
import type { RateLimiter } from '../services/ports.js';

/**
 * One send rate for all workers: a token bucket in Redis, refilled by Redis's own clock, with a
 * burst of a twentieth of a second's worth so the rate holds over any window of a few seconds.
 * Each worker keeps a reserve topped up in the background, so a claim rarely waits for a Redis
 * round trip: about 10 ms of the rate (at least `reserve`, at most the burst), so a fast send asks
 * Redis about a hundred times a second, not once every few messages. Tokens in a reserve were
 * granted by the shared bucket, so the rate holds across workers all the same.
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

export function createRateLimiter(deps: { redis: RedisClient; prefix: string; ratePerSecond: number; reserve?: number }): RateLimiter {
  const key = `${deps.prefix}:send-rate`;
  const burst = Math.max(1, Math.floor(deps.ratePerSecond / 20));
  const reserveTarget = Math.min(burst, Math.max(deps.reserve ?? 0, Math.ceil(deps.ratePerSecond / 100)));
  let reserve = 0;
  let waitMs = 0;
  let refilling: Promise<void> | undefined;

  const request = async (want: number) => {
    try {
      const [granted, wait] = (await deps.redis.eval(TAKE, 1, key, deps.ratePerSecond, burst, Math.max(1, want))) as [number, number];
      reserve += granted;
      waitMs = granted > 0 ? 0 : Math.min(1000, Math.max(1, wait));
    } catch {
      waitMs = 250; // Redis unreachable: no token, no send; try again shortly.
    }
  };
  const refill = (want: number) => (refilling ??= request(want).finally(() => (refilling = undefined)));

  return {
    async take(want, stopped) {
      for (;;) {
        if (stopped?.()) return 0;
        if (reserve > 0) {
          const granted = Math.min(want, reserve);
          reserve -= granted;
          // Topped up once half is used, not after every take: one Redis call per few messages.
          if (reserve <= reserveTarget / 2) void refill(reserveTarget - reserve);
          return granted;
        }
        await refill(want + reserveTarget);
        if (reserve === 0 && waitMs > 0) await sleep(waitMs);
      }
    },
  };
}
