import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * drizzle sets postgres.js's timestamp serializers to pass values through (it writes its own dates
 * as text); our own SQL still passes Dates and timestamp arrays, before and after a drizzle
 * transaction has been opened on the pool.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function roundTrip() {
  const at = new Date('2026-12-06T10:00:00.123Z');
  const [row] = await db.sql<{ at: string; list: string; count: number }[]>`
    select ${at}::timestamptz as at, ${[at.toISOString(), null] as string[]}::timestamptz[] as list,
      (select count(*)::int from unnest(${[null, at] as unknown as string[]}::timestamptz[])) as count`;
  expect(new Date(row!.at).getTime()).toBe(at.getTime());
  expect(row!.list).toMatch(/^\{"2026-12-06 10:00:00\.123\+00",NULL\}$/);
  expect(row!.count).toBe(2);
}

describe('timestamp parameters of our own SQL', () => {
  it('are written as text on a new pool and after a drizzle transaction ran on it', async () => {
    await roundTrip();
    await inTransaction(db, async (tx) => {
      await tx.execute('select 1');
    });
    await roundTrip();
  });
});
