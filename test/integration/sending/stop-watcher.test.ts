import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../../src/queue/redis.js';
import { createStopAnnouncer, createStopWatcher } from '../../../src/queue/stop-signal.js';
import { createTestDatabase, redisUrl, uniquePrefix, type TestDatabase } from '../../support/database.js';
import type { SqlExecutor } from '../../../src/db/client.js';
import { sendingBatch, testLogger, waitFor } from '../../support/sending.js';

/**
 * The stop set holds what this worker is sending. A pause announced late — after the resume that
 * followed it, as when the pausing process is slow to publish — must not stop the next job of a
 * deployment that is sending again (it would end at once, and nothing would send the rest).
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('stop watcher', () => {
  it('ignores a stop for a deployment no job of it is sending, and still stops one it is', async () => {
    const prefix = uniquePrefix('stops');
    const publisher = createRedis(redisUrl(), 'test-announce', testLogger);
    const subscriber = createRedis(redisUrl(), 'test-stops', testLogger, { blocking: true });
    const watcher = createStopWatcher({ subscriber, prefix, sql: db.sql, logger: testLogger, pollMs: 60_000 });
    const announcer = createStopAnnouncer({ redis: publisher, prefix, logger: testLogger });
    try {
      await waitFor(async () => subscriber.status === 'ready', { what: 'the subscriber' });
      const sending = watcher.watch('dep_aaaaaaaaaa');
      await announcer.announce(['dep_bbbbbbbbbb'], 'paused');
      await announcer.announce(['dep_aaaaaaaaaa'], 'paused');
      await waitFor(async () => watcher.isStopped('dep_aaaaaaaaaa'), { what: 'the watched deployment to stop' });
      const next = watcher.watch('dep_bbbbbbbbbb');
      expect(watcher.isStopped('dep_bbbbbbbbbb')).toBe(false);
      sending();
      next();
    } finally {
      await watcher.close();
      publisher.disconnect();
      subscriber.disconnect();
    }
  });
  it('a read of Postgres from before a resume does not stop the deployment again, and a job starting after the resume reads afresh', async () => {
    const { deploymentId } = await sendingBatch(db, 1);
    await db.sql`update deployments set status = 'paused', paused_at = now() where id = ${deploymentId}`;
    const prefix = uniquePrefix('stops');
    const publisher = createRedis(redisUrl(), 'test-announce', testLogger);
    const subscriber = createRedis(redisUrl(), 'test-stops', testLogger, { blocking: true });
    // The first read answers from before the resume, and is slow to come back.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const slowSql = Object.assign(
      (strings: TemplateStringsArray, ...values: unknown[]) => {
        const query = db.sql(strings, ...(values as never[]));
        return ++reads === 1 ? query.then(async (rows) => (await held, rows)) : query;
      },
      {},
    ) as unknown as SqlExecutor;
    const watcher = createStopWatcher({ subscriber, prefix, sql: slowSql, logger: testLogger, pollMs: 60_000 });
    const announcer = createStopAnnouncer({ redis: publisher, prefix, logger: testLogger });
    try {
      await waitFor(async () => subscriber.status === 'ready', { what: 'the subscriber' });
      const unwatch = watcher.watch(deploymentId);
      await announcer.announce([deploymentId], 'paused');
      await waitFor(async () => watcher.isStopped(deploymentId), { what: 'the pause' });
      const stale = watcher.refresh();
      await waitFor(async () => reads === 1, { what: 'the first read' });
      await db.sql`update deployments set status = 'sending', paused_at = null where id = ${deploymentId}`;
      await announcer.announce([deploymentId], 'resumed');
      await waitFor(async () => !watcher.isStopped(deploymentId), { what: 'the resume' });
      const fresh = watcher.refresh(); // a job of the resume, starting
      release();
      await Promise.all([stale, fresh]);
      expect(watcher.isStopped(deploymentId)).toBe(false);
      expect(reads).toBe(2);
      unwatch();
    } finally {
      await watcher.close();
      publisher.disconnect();
      subscriber.disconnect();
    }
  });
});
