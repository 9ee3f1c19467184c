import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { checkLedger } from '../../support/checker.js';
import { useOwnRedis } from '../../support/own-redis.js';
import { deploymentRow, startWorker, testConfig, waitFor } from '../../support/sending.js';

/** Redis state lost mid-send (a restart without its data): Postgres still knows, nothing is lost or sent twice. */
// A Redis of this file's own: it is flushed.
const stack = useOwnRedis('redis-lost', { ephemeral: true });

describe('Redis state lost mid-send', () => {
  it('the reconciler queues the lost send jobs again from Postgres; every recipient gets exactly one message', async () => {
    const config = testConfig(stack.db, { SMTP_URL: stack.sink.url, REDIS_URL: stack.redis.url, SEND_RATE_PER_SECOND: '400' });
    const worker = await startWorker(stack.db, config);
    const admin = new Redis(stack.redis.url);
    try {
      const { deploymentIds } = await createCampaignOrThrow(stack.db, { csv: audienceCsv(2000) });
      const id = deploymentIds[0]!;
      await waitFor(async () => (await deploymentRow(stack.db, id)).sent_count >= 300, { what: '300 sent' });
      await admin.flushall();
      await waitFor(async () => (await deploymentRow(stack.db, id)).status === 'completed', { what: 'completion after the flush', timeoutMs: 40_000 });
      const check = await checkLedger(stack.db, id, stack.sink);
      expect(check).toMatchObject({ total: 2000, duplicates: 0, lost: 0, phantom: 0, unknown: 0, booksMatch: true });
      expect(check.byStatus).toEqual({ sent: 2000 });
    } finally {
      admin.disconnect();
      await worker.stop();
    }
  }, 60_000);
});
