import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../../src/lib/embedded/redis.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { checkLedger } from '../../support/checker.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, startWorker, testConfig, waitFor } from '../../support/sending.js';

/** Redis state lost mid-send (a restart without its data): Postgres still knows, nothing is lost or sent twice. */
let db: TestDatabase;
let sink: SmtpSink;
let redis: EmbeddedRedis;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
  // A Redis of this file's own: it is flushed.
  dir = await mkdtemp(path.join(os.tmpdir(), 'cg-redis-lost-'));
  redis = await startEmbeddedRedis({ dir, ephemeral: true });
});
afterAll(async () => {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
  await sink.close();
  await db.drop();
});

describe('Redis state lost mid-send', () => {
  it('the reconciler queues the lost send jobs again from Postgres; every recipient gets exactly one message', async () => {
    const config = testConfig(db, { SMTP_URL: sink.url, REDIS_URL: redis.url, SEND_RATE_PER_SECOND: '400' });
    const worker = await startWorker(db, config);
    const admin = new Redis(redis.url);
    try {
      const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(2000) });
      const id = deploymentIds[0]!;
      await waitFor(async () => (await deploymentRow(db, id)).sent_count >= 300, { what: '300 sent' });
      await admin.flushall();
      await waitFor(async () => (await deploymentRow(db, id)).status === 'completed', { what: 'completion after the flush', timeoutMs: 40_000 });
      const check = await checkLedger(db, id, sink);
      expect(check).toMatchObject({ total: 2000, duplicates: 0, lost: 0, phantom: 0, unknown: 0, booksMatch: true });
      expect(check.byStatus).toEqual({ sent: 2000 });
    } finally {
      admin.disconnect();
      await worker.stop();
    }
  }, 60_000);
});
