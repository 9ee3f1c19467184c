import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../lib/logger.js';
import { parseRedisUrl, type RedisTarget } from '../lib/redis-url.js';

/** A connection to what REDIS_URL names: one server or a Sentinel set's master (Redis), or a Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * Redis connections. BullMQ's blocking workers need `maxRetriesPerRequest: null`; everything else
 * fails fast (no offline queue) so a Redis outage shows up as an error, not as a hang.
 */
export function createRedis(url: string, name: string, logger: Logger, options: { blocking?: boolean } = {}): RedisClient {
  const settings: RedisOptions = options.blocking
    ? { maxRetriesPerRequest: null, enableReadyCheck: true }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false };
  const redis = connect(redisTarget(url), { ...settings, connectionName: `campaign-guard-${name}`, lazyConnect: false });
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

function redisTarget(url: string): RedisTarget {
  const target = parseRedisUrl(url);
  // Configuration refused a bad REDIS_URL already; this is a caller's mistake.
  if ('problem' in target) throw new Error(`not a Redis URL: ${target.problem}`);
  return target;
}

/** A command refused by a replica (the master we knew was demoted): reconnect and send it again. */
const reconnectOnReadOnly = (error: Error) => (error.message.startsWith('READONLY') ? 2 : false);

function connect(target: RedisTarget, settings: RedisOptions): RedisClient {
  if (target.kind === 'server') return new Redis(target.url, settings);
  const tls = target.tls ? {} : undefined;
  const { username, password } = target;
  if (target.kind === 'sentinel') {
    return new Redis({
      ...settings,
      sentinels: target.sentinels,
      name: target.name,
      db: target.db,
      username,
      password,
      sentinelPassword: target.sentinelPassword,
      tls,
      enableTLSForSentinelMode: target.tls,
      // Sentinels announce a failover at once; without this a connection learns of it only when
      // its master stops answering.
      failoverDetector: true,
      reconnectOnError: reconnectOnReadOnly,
    });
  }
  const { enableOfflineQueue, ...redisOptions } = settings;
  return new Cluster(target.nodes, {
    redisOptions: { ...redisOptions, username, password, tls },
    enableOfflineQueue: enableOfflineQueue ?? true,
    enableReadyCheck: true,
    lazyConnect: false,
    // A cluster reshaped by a failover answers MOVED/CLUSTERDOWN for a moment: retry, do not fail.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    // Managed clusters behind TLS announce addresses their certificates do not name: keep the hostname.
    ...(target.tls ? { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) } : {}),
  });
}

/** Resolves once the connection is ready; rejects with the connection error, or after `timeoutMs`. */
export function whenReady(redis: RedisClient, timeoutMs = 10_000): Promise<void> {
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
export async function evictionPolicy(redis: RedisClient): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    return reply[1];
  } catch {
    return undefined;
  }
}
