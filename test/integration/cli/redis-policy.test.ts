import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../../src/lib/embedded/redis.js';
import { runCli, STACK_LINE, stderrLines } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/** A Redis that would evict queued jobs is refused at start, in one line. */
let db: TestDatabase;
let redis: EmbeddedRedis;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'cg-redis-policy-'));
  redis = await startEmbeddedRedis({ dir, ephemeral: true });
  const admin = new Redis(redis.url);
  await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
  admin.disconnect();
});
afterAll(async () => {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
  await db.drop();
});

describe('serve with an evicting Redis', () => {
  it('refuses to start: exit 69, one line naming REDIS_URL and noeviction', async () => {
    const result = await runCli(['serve'], { DATABASE_URL: db.url, REDIS_URL: redis.url, PORT: '0', LOG_LEVEL: 'silent' }, { timeoutMs: 60_000 });
    expect(result.code).toBe(69);
    const lines = stderrLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe('campaign-guard: Redis (REDIS_URL) has maxmemory-policy allkeys-lru; set it to noeviction (CONFIG SET maxmemory-policy noeviction), or queued jobs can be evicted and lost');
    expect(result.stderr).not.toMatch(STACK_LINE);
  });
});
