import path from 'node:path';
import type { Config } from '../config.js';
import { startEmbeddedPostgres } from '../lib/embedded/postgres.js';
import { startEmbeddedRedis } from '../lib/embedded/redis.js';
import type { Logger } from '../lib/logger.js';

/**
 * Part of the composition root. Where Postgres and Redis are: the configured URLs, or servers embedded under DATA_DIR so that
 * `npm start` works on a bare machine. Embedded servers started here are stopped by `stop()`.
 */
export interface Infrastructure {
  databaseUrl: string;
  redisUrl: string | undefined;
  embedded: { postgres: boolean; redis: boolean };
  stop(): Promise<void>;
}

export async function resolveInfrastructure(
  config: Config,
  logger: Logger,
  needs: { redis: boolean },
): Promise<Infrastructure> {
  const stops: (() => Promise<void>)[] = [];
  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres({ dir: path.join(config.dataDir, 'postgres'), database: 'campaign_guard', logger });
      stops.push(pg.stop);
      databaseUrl = pg.url;
    }
    let redisUrl = config.redisUrl;
    if (!redisUrl && needs.redis) {
      const redis = await startEmbeddedRedis({ dir: path.join(config.dataDir, 'redis'), logger });
      stops.push(redis.stop);
      redisUrl = redis.url;
    }
    return {
      databaseUrl,
      redisUrl,
      embedded: { postgres: !config.databaseUrl, redis: !config.redisUrl && needs.redis },
      stop: async () => {
        for (const stop of stops.reverse()) await stop();
      },
    };
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}
