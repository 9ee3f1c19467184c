import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueuePagerFollowUp, enqueuePagerTrigger } from '../../../src/db/queries/pager-outbox.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import type { createStopAnnouncer } from '../../../src/queue/stop-signal.js';
import { createAccessService } from '../../../src/services/access.js';
import { createControlService } from '../../../src/services/control.js';
import { createPauseResume } from '../../../src/services/sending/pause-resume.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { openAlertForTest } from '../../support/alerts.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, startWorker, testConfig, testLogger, waitFor } from '../../support/sending.js';

let db: TestDatabase;
let sink: SmtpSink;
beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
  await createAccessService({ db: db.db, clock: () => new Date() }).grant('U_RESP1', 'responder', 'test');
});
afterAll(async () => {
  await sink.close();
  await db.drop();
});

const later = () => new Date(Date.now() + 3_600_000);

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

  it('a cancelled deployment resolves the pages of its alerts, in the transaction of the cancel', async () => {
    const { deploymentIds } = await createCampaignOrThrow(db, { sendAt: later() });
    const alertId = await openAlertForTest(db, deploymentIds[0]!);
    await enqueuePagerTrigger(db.sql, ['pagerduty', 'webhook'], [alertId]);
    const announcer = { announce: async () => undefined } as unknown as ReturnType<typeof createStopAnnouncer>;
    const control = createControlService({ database: db, announcer, pauseResume: createPauseResume({ database: db, announcer }), logger: testLogger });
    expect(await control.cancel({ target: deploymentIds[0]!, actor: 'U_RESP1', reason: 'bounce storm' })).toMatchObject({ outcome: 'cancelled' });
    expect(await rows(alertId)).toEqual([
      { destination: 'pagerduty', action: 'trigger' },
      { destination: 'webhook', action: 'trigger' },
      { destination: 'pagerduty', action: 'resolve' },
      { destination: 'webhook', action: 'resolve' },
    ]);
  });

  it('a deployment that completes resolves the pages of its alerts', async () => {
    // Due now, but no worker runs yet: its alert is paged before it sends.
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(20) });
    const id = deploymentIds[0]!;
    const alertId = await openAlertForTest(db, id);
    await enqueuePagerTrigger(db.sql, ['pagerduty'], [alertId]);
    const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url }));
    try {
      await waitFor(async () => (await deploymentRow(db, id)).status === 'completed', { what: 'completion' });
    } finally {
      await worker.stop();
    }
    expect(await rows(alertId)).toEqual([
      { destination: 'pagerduty', action: 'trigger' },
      { destination: 'pagerduty', action: 'resolve' },
    ]);
  }, 30_000);
});
