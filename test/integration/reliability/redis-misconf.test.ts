import { mkdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { useOwnRedis } from '../../support/own-redis.js';
import { deploymentRow, startWorker, testConfig, waitFor } from '../../support/sending.js';

/**
 * O2 (issue 19, finding 7): Redis refusing writes (MISCONF: its snapshot cannot be written, as on
 * a full disk) while a deployment is paused. The worker's errors are logged with backoff and a
 * count (one line per cause per interval), not thousands of lines a second; once Redis takes
 * writes again, sending carries on.
 */
const stack = useOwnRedis('redis-misconf');

describe('O2: Redis refusing writes (MISCONF) while a deployment is paused', () => {
  it('O2: the worker logs a few lines with counts, not a flood, and sends again once Redis takes writes', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _e, done) => void (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) }));
    const config = testConfig(stack.db, { SMTP_URL: stack.sink.url, REDIS_URL: stack.redis.url, SEND_RATE_PER_SECOND: '300' });
    const worker = await startWorker(stack.db, config, { logger });
    const admin = new Redis(stack.redis.url);
    try {
      const { deploymentIds } = await createCampaignOrThrow(stack.db, { csv: audienceCsv(3000) });
      const id = deploymentIds[0]!;
      await waitFor(async () => (await deploymentRow(stack.db, id)).sent_count >= 100, { what: 'sending under way', timeoutMs: 60_000 });
      expect((await worker.control.pause({ deploymentId: id }, 'U0OPS00001')).ok).toBe(true);

      // The snapshot's target is a directory: BGSAVE fails and Redis refuses every write.
      await mkdir(path.join(stack.dir, 'dump.rdb'));
      await admin.bgsave();
      await waitFor(async () => (await admin.set('cg-probe', '1').then(() => false, (e: Error) => e.message.startsWith('MISCONF'))) || undefined, { what: 'Redis refusing writes' });
      const before = lines.length;
      await new Promise((r) => setTimeout(r, 8000));
      const during = lines.slice(before);
      // Before: thousands of lines a second. Now: a line per cause per interval, each repeat counted.
      expect(during.length).toBeLessThan(30);
      expect(during.some((l) => JSON.stringify(l).includes('MISCONF'))).toBe(true);

      // Redis takes writes again: resume, and the deployment finishes.
      await rmdir(path.join(stack.dir, 'dump.rdb'));
      await admin.bgsave();
      await waitFor(async () => (await admin.set('cg-probe', '1').then(() => true, () => false)) || undefined, { what: 'Redis taking writes' });
      expect((await worker.control.resume({ deploymentId: id }, 'U0OPS00001')).ok).toBe(true);
      await waitFor(async () => (await deploymentRow(stack.db, id)).status === 'completed' || undefined, { what: 'the send to finish', timeoutMs: 90_000 });
    } finally {
      admin.disconnect();
      await worker.stop();
    }
  }, 180_000);
});
