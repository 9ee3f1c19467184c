import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

it('has a migrated database of its own', async () => {
  const rows = await db.sql`select count(*)::int as n from campaigns`;
  expect(rows[0]!.n).toBe(0);
});
