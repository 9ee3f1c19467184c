import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRateLimiter } from '../../../src/queue/rate-limiter.js';
import { createRedis, type RedisClient } from '../../../src/queue/redis.js';
import { redisUrl, uniquePrefix } from '../../support/database.js';
import { testLogger } from '../../support/sending.js';

/**
 * The shared send rate against a real Redis: a fast worker takes its tokens from Redis about 10 ms
 * of the rate at a time, not a few messages' worth, and reserves that size still hold two workers
 * to the one rate.
 */
let redis: RedisClient;
beforeAll(() => {
  redis = createRedis(redisUrl(), 'test-rate', testLogger);
});
afterAll(() => {
  redis.disconnect();
});

describe('the rate limiter', () => {
  it('asks Redis about once per 5 ms of the rate, however small the claims', async () => {
    const limiter = createRateLimiter({ redis, prefix: uniquePrefix('rate-calls'), ratePerSecond: 100_000, reserve: 8 });
    const calls = vi.spyOn(redis, 'eval');
    let taken = 0;
    while (taken < 5000) taken += await limiter.take(1);
    // 5,000 tokens at 100,000/s with a 1,000-token reserve topped up at half: about 10 calls
    // (a reserve of one claim's worth, 8, would have taken some 1,250).
    expect(calls.mock.calls.length).toBeLessThanOrEqual(20);
    calls.mockRestore();
  });

  it('holds two workers with their reserves to the one rate', async () => {
    const prefix = uniquePrefix('rate-shared');
    const workers = [0, 1].map(() => createRateLimiter({ redis, prefix, ratePerSecond: 2000, reserve: 4 }));
    const started = Date.now();
    const durationMs = 2000;
    const counts = await Promise.all(workers.map(async (limiter) => {
      let n = 0;
      while (Date.now() - started < durationMs) n += await limiter.take(1);
      return n;
    }));
    const total = counts[0]! + counts[1]!;
    // At most the rate over the window plus the burst (a twentieth of a second's worth); the
    // reserves are tokens the bucket already granted, so they cannot add to it.
    expect(total).toBeLessThanOrEqual(2000 * (durationMs / 1000) + 100 + 2);
    expect(total).toBeGreaterThanOrEqual(0.8 * 2000 * (durationMs / 1000));
    expect(Math.min(...counts)).toBeGreaterThan(0.25 * total);
  });
});
