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
