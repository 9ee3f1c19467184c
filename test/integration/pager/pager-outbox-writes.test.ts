import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueuePagerFollowUp, enqueuePagerTrigger } from '../../../src/db/queries/pager-outbox.js';
import { createCampaignOrThrow } from '../../support/builders.js';
import { openAlertForTest } from '../../support/alerts.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function rows(alertId: string) {
  return db.sql<{ destination: string; action: string }[]>`select destination, action from pager_outbox where alert_id = ${alertId} order by id`;
}

describe('pager outbox rows an alert change writes', () => {
  it('writes a trigger once per destination, and acknowledge/resolve once, only where a trigger was, never an acknowledge after a resolve', async () => {
    const { deploymentIds } = await createCampaignOrThrow(db);
    const alertId = await openAlertForTest(db, deploymentIds[0]!);
    const other = await openAlertForTest(db, deploymentIds[0]!, { metric: 'error' });

    await enqueuePagerFollowUp(db.sql, { alertIds: [alertId] }, 'acknowledge');
    expect(await rows(alertId)).toEqual([]);

    await enqueuePagerTrigger(db.sql, ['pagerduty', 'webhook'], [alertId]);
    await enqueuePagerTrigger(db.sql, ['pagerduty', 'webhook'], [alertId]);
    await enqueuePagerFollowUp(db.sql, { deploymentIds: [deploymentIds[0]!] }, 'resolve');
    await enqueuePagerFollowUp(db.sql, { alertIds: [alertId] }, 'acknowledge');
    await enqueuePagerTrigger(db.sql, [], [other]);
    await enqueuePagerFollowUp(db.sql, { deploymentIds: [deploymentIds[0]!] }, 'resolve');

    expect(await rows(alertId)).toEqual([
      { destination: 'pagerduty', action: 'trigger' },
      { destination: 'webhook', action: 'trigger' },
      { destination: 'pagerduty', action: 'resolve' },
      { destination: 'webhook', action: 'resolve' },
    ]);
    expect(await rows(other)).toEqual([]);
  });
});
