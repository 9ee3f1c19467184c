import type { Redis } from 'ioredis';

/**
 * Keys every process shares for a while (the Slack replay memory): `claim` sets one only if it is
 * not held (SET NX with an expiry), so of two processes given the same request exactly one gets it.
 */
export function createSeenKeys(redis: Pick<Redis, 'set'>, prefix: string) {
  return {
    async claim(key: string, ttlMs: number): Promise<boolean> {
      return (await redis.set(`${prefix}:seen:${key}`, '1', 'PX', Math.ceil(ttlMs), 'NX')) === 'OK';
    },
  };
}
