import path from 'node:path';
import type { Config } from '../config.js';
import { openDatabase, type DatabaseHandle } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { reachable } from '../lib/dependency-errors.js';
import { runningEmbeddedRedis } from '../lib/embedded/redis.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import { createRedis, whenReady } from '../queue/redis.js';
import { createStopAnnouncer } from '../queue/stop-signal.js';
import { policyFromConfig } from '../services/alerts/monitor.js';
import { resolveInfrastructure } from './infrastructure.js';
import { buildServices } from './services.js';

/** What one-shot CLI commands run against, built here (the composition root) and handed to cli/. */

/**
 * For one-shot CLI commands: the database (migrated), the services, and a way to let go. A stop
 * (cancel, pause) is also announced on Redis when one is configured or the embedded one is
 * running; otherwise workers see it at their next poll of Postgres.
 */
export async function openCommandContext(config: Config, logger: Logger) {
  const infrastructure = await resolveInfrastructure(config, logger, { redis: false });
  let database: DatabaseHandle | undefined;
  let redis: ReturnType<typeof createRedis> | undefined;
  try {
    await reachable('Postgres', 'DATABASE_URL', () => runMigrations(infrastructure.databaseUrl));
    database = await reachable('Postgres', 'DATABASE_URL', () => openDatabase(infrastructure.databaseUrl, { max: 4, applicationName: 'campaign-guard-cli' }));
    const redisUrl = config.redisUrl ?? (await runningEmbeddedRedis(path.join(config.dataDir, 'redis')));
    if (redisUrl) {
      redis = createRedis(redisUrl, 'cli', silentLogger);
      await whenReady(redis, 1000).catch(() => logger.warn('Redis is not reachable: workers will see stops at their next poll of Postgres'));
    }
    const announcer = createStopAnnouncer({ redis: redis?.status === 'ready' ? redis : undefined, prefix: config.redisPrefix, logger });
    const services = buildServices(database, { announcer, logger, alertDefaults: policyFromConfig(config.alerts) });
    const opened = database;
    return {
      services,
      database: opened,
      close: async () => {
        await services.close();
        redis?.disconnect();
        await opened.close();
        await infrastructure.stop();
      },
    };
  } catch (error) {
    redis?.disconnect();
    await database?.close().catch(() => undefined);
    await infrastructure.stop().catch(() => undefined);
    throw error;
  }
}

/** `migrate`: applies the database migrations (to the embedded Postgres when DATABASE_URL is unset). */
export async function migrateDatabase(config: Config, logger: Logger): Promise<void> {
  const infrastructure = await resolveInfrastructure(config, logger, { redis: false });
  try {
    await reachable('Postgres', 'DATABASE_URL', () => runMigrations(infrastructure.databaseUrl));
  } finally {
    await infrastructure.stop();
  }
}
