import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/lib/embedded/redis.js';
import { startSmtpSink, type SmtpSink } from '../../src/mail/sink.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/**
 * A test file's own Redis (in a temp dir: a test may flush it or break its disk), with a database
 * and an SMTP sink, started before the file's tests and stopped after them. Read the fields inside
 * tests (they are set by beforeAll).
 */
export interface OwnRedisStack {
  db: TestDatabase;
  sink: SmtpSink;
  redis: EmbeddedRedis;
  /** Redis's data directory. */
  dir: string;
}

export function useOwnRedis(name: string, options: { ephemeral?: boolean } = {}): OwnRedisStack {
  const stack = {} as OwnRedisStack;
  beforeAll(async () => {
    stack.db = await createTestDatabase();
    stack.sink = await startSmtpSink();
    stack.dir = await mkdtemp(path.join(os.tmpdir(), `cg-${name}-`));
    stack.redis = await startEmbeddedRedis({ dir: stack.dir, ephemeral: options.ephemeral });
  });
  afterAll(async () => {
    await stack.redis?.stop().catch(() => undefined);
    if (stack.dir) await rm(stack.dir, { recursive: true, force: true });
    await stack.sink?.close();
    await stack.db?.drop();
  });
  return stack;
}
