import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../../src/lib/embedded/redis.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { createAccessService } from '../../../src/services/access.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { checkLedger } from '../../support/checker.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, startWorker, testConfig, waitFor } from '../../support/sending.js';

/** Redis dying or freezing under a running send: Postgres decides, so nothing is lost, doubled, or sent after a cancel. */
let db: TestDatabase;
let sink: SmtpSink;
let redis: EmbeddedRedis;
let dir: string;
const redisPid = async () => Number((await readFile(path.join(dir, 'redis.pid'), 'utf8')).trim());

beforeEach(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
  dir = await mkdtemp(path.join(os.tmpdir(), 'cg-redis-faults-'));
  redis = await startEmbeddedRedis({ dir });
});
afterEach(async () => {
  await redis.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
  await sink.close();
  await db.drop();
});

describe('Redis faults', () => {
  it('Redis killed and restarted mid-send: the send finishes, every recipient exactly once', async () => {
    const config = testConfig(db, { SMTP_URL: sink.url, REDIS_URL: redis.url, SEND_RATE_PER_SECOND: '400' });
    const worker = await startWorker(db, config);
    try {
      const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(2000) });
      const id = deploymentIds[0]!;
      await waitFor(async () => (await deploymentRow(db, id)).sent_count >= 300, { what: '300 sent' });
      process.kill(await redisPid(), 'SIGKILL');
      await new Promise((r) => setTimeout(r, 2000));
      redis = await startEmbeddedRedis({ dir, port: Number(new URL(redis.url).port) });
      await waitFor(async () => (await deploymentRow(db, id)).status === 'completed', { what: 'completion after the restart', timeoutMs: 45_000 });
      const check = await checkLedger(db, id, sink);
      expect(check).toMatchObject({ total: 2000, duplicates: 0, lost: 0, phantom: 0, booksMatch: true });
    } finally {
      await worker.stop();
    }
  }, 90_000);

  it('Redis frozen while a responder cancels: the cancel succeeds within 3 s, and nothing is sent after it, even once Redis is back', async () => {
    const config = testConfig(db, { SMTP_URL: sink.url, REDIS_URL: redis.url, SEND_RATE_PER_SECOND: '300' });
    const worker = await startWorker(db, config);
    await createAccessService({ db: db.db, clock: () => new Date() }).grant('U_ONCALL', 'responder', 'test');
    const pid = await redisPid();
    try {
      const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(3000) });
      const id = deploymentIds[0]!;
      await waitFor(async () => (await deploymentRow(db, id)).sent_count >= 200, { what: '200 sent' });
      process.kill(pid, 'SIGSTOP');
      const started = Date.now();
      const outcome = await worker.cancellation.cancel({ target: id, actor: 'U_ONCALL', reason: 'bounce storm' });
      const committedAt = Date.now();
      expect(outcome.outcome).toBe('cancelled');
      expect(committedAt - started).toBeLessThan(3000);
      await new Promise((r) => setTimeout(r, 2500));
      process.kill(pid, 'SIGCONT');
      await new Promise((r) => setTimeout(r, 2500));
      await worker.cancellation.idle();
      const check = await checkLedger(db, id, sink, { stoppedAt: committedAt, graceMs: 1000 });
      expect(check).toMatchObject({ duplicates: 0, phantom: 0, late: 0 });
      expect(check.byStatus.pending ?? 0).toBe(0);
      expect((await deploymentRow(db, id)).status).toBe('cancelled');
    } finally {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already running
      }
      await worker.stop();
    }
  }, 90_000);
});
