import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../../src/queue/redis.js';
import { createStopAnnouncer, createStopWatcher } from '../../../src/queue/stop-signal.js';
import { createTestDatabase, redisUrl, uniquePrefix, type TestDatabase } from '../../support/database.js';
import { testLogger, waitFor } from '../../support/sending.js';

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
});
