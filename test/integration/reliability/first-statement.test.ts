import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, openDatabase } from '../../../src/db/client.js';
import { statusesOf } from '../../../src/db/queries/deployments.js';
import { createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * A process's very first statement may carry an array (a worker's claim, a stop-set refresh, a
 * webhook's update): it must be answered like any later one.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('the first statement of a new pool', () => {
  it('is answered when it has an array parameter', async () => {
    const { deploymentIds } = await createCampaignOrThrow(db, { sendAt: new Date(Date.now() + 3_600_000) });
    const handle = await openDatabase(db.url, { max: 3 });
    try {
      const rows = await statusesOf(handle.sql, deploymentIds);
      expect(rows.map((r) => r.id)).toEqual(deploymentIds);
    } finally {
      await handle.close();
    }
  });

  it('is answered on a pool that has run nothing yet (postgres.js 4 knows the array types without asking first)', async () => {
    const handle = connectDatabase(db.url, { max: 1 });
    try {
      expect(await statusesOf(handle.sql, ['dep_none'])).toEqual([]);
    } finally {
      await handle.close();
    }
  });
});
