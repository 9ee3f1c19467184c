import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { runMigrations } from '../../src/db/migrate.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/lib/embedded/postgres.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/lib/embedded/redis.js';

/**
 * One Postgres and one Redis for the whole run (or the ones DATABASE_URL / REDIS_URL name).
 * Migrations are applied once to a template database; each test file clones its own database
 * from it, and uses its own Redis key prefix, so files never share state.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    databaseAdminUrl: string;
    templateDatabase: string;
    redisUrl: string;
  }
}

export const TEMPLATE_DATABASE = 'cg_test_template';

export default async function setup(project: TestProject) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'cg-test-'));
  // The embedded Postgres runs as the `postgres` user when we are root: it must reach the dir.
  await chmod(tmp, 0o755);
  let pg: EmbeddedPostgres | undefined;
  let redis: EmbeddedRedis | undefined;

  const adminUrl = process.env.DATABASE_URL ?? (pg = await startEmbeddedPostgres({ dir: path.join(tmp, 'pg'), database: 'postgres', ephemeral: true })).url;
  const redisUrl = process.env.REDIS_URL ?? (redis = await startEmbeddedRedis({ dir: path.join(tmp, 'redis'), ephemeral: true })).url;

  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
  await admin.unsafe(`create database ${TEMPLATE_DATABASE}`);
  await admin.end();
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE_DATABASE}`;
  await runMigrations(templateUrl.toString());

  project.provide('databaseAdminUrl', adminUrl);
  project.provide('templateDatabase', TEMPLATE_DATABASE);
  project.provide('redisUrl', redisUrl);

  return async () => {
    await redis?.stop();
    await pg?.stop();
    await rm(tmp, { recursive: true, force: true });
  };
}
