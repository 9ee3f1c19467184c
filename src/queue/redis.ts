import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../lib/logger.js';

/**
 * Redis connections. BullMQ's blocking workers need `maxRetriesPerRequest: null`; everything else
 * fails fast (no offline queue) so a Redis outage shows up as an error, not as a hang.
 */
export function createRedis(url: string, name: string, logger: Logger, options: { blocking?: boolean } = {}): Redis {
  const settings: RedisOptions = options.blocking
    ? { maxRetriesPerRequest: null, enableReadyCheck: true }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false };
  const redis = new Redis(url, { ...settings, connectionName: `campaign-guard-${name}`, lazyConnect: false });
  let reported = false;
  redis.on('error', (error) => {
    if (!reported) logger.warn({ err: error, connection: name }, 'redis connection error');
    reported = true;
  });
  redis.on('ready', () => {
    if (reported) logger.info({ connection: name }, 'redis connection restored');
    reported = false;
  });
  return redis;
}

/** Resolves once the connection is ready; rejects with the connection error, or after `timeoutMs`. */
export function whenReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    const onReady = () => done();
    const onError = (error: Error) => done(error);
    const done = (error?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (error) reject(error);
      else resolve();
    };
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}

/**
 * BullMQ keeps jobs in Redis; a Redis that evicts keys under memory pressure would drop them
 * silently. Anything but `noeviction` is refused. A managed Redis that forbids CONFIG is let
 * through (with the caller's warning): its operator has to vouch for the policy.
 */
export async function evictionPolicy(redis: Redis): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    return reply[1];
  } catch {
    return undefined;
  }
}
