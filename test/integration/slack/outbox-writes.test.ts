import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessService } from '../../../src/services/access.js';
import { createControlService } from '../../../src/services/control.js';
import { createPauseResume } from '../../../src/services/sending/pause-resume.js';
import type { createStopAnnouncer } from '../../../src/queue/stop-signal.js';
import { openAlertForTest } from '../../support/alerts.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { testLogger } from '../../support/sending.js';

/** The outbox rows a change writes in its own transaction: every alert message of what changed. */
let db: TestDatabase;
let service: ReturnType<typeof createControlService>;

beforeAll(async () => {
  db = await createTestDatabase();
  const announcer = { announce: async () => undefined } as unknown as ReturnType<typeof createStopAnnouncer>;
  const pauseResume = createPauseResume({ database: db, announcer });
  service = createControlService({ database: db, announcer, pauseResume, logger: testLogger });
  await createAccessService({ db: db.db, clock: () => new Date() }).grant('U0ALICE001', 'responder', 'test');
});
afterAll(async () => {
  await db.drop();
});

const rows = (like: string) => db.sql<{ kind: string; dedupe_key: string; alert_id: string | null }[]>`select kind, dedupe_key, alert_id from slack_outbox where dedupe_key like ${like} order by id`;

describe('outbox rows of a change', () => {
  it('a multi campaign cancel edits every deployment’s alert message and replies in each thread, in order', async () => {
    const { campaignId, deploymentIds } = await createCampaignOrThrow(db, { kind: 'multi', deployments: 2, csv: audienceCsv(10), sendAt: new Date(Date.now() + 3_600_000) });
    const alerts = [await openAlertForTest(db, deploymentIds[0]!), await openAlertForTest(db, deploymentIds[1]!, { metric: 'error' })];
    expect(await service.cancel({ target: campaignId, actor: 'U0ALICE001', reason: 'bad list' })).toMatchObject({ outcome: 'cancelled' });
    const written = await db.sql<{ kind: string; alert_id: string; type: string }[]>`
      select kind, alert_id, payload->>'type' as type from slack_outbox where alert_id = any(${alerts}::text[]) and kind <> 'post' order by id`;
    expect(written.map((r) => `${r.kind}:${r.type}`)).toEqual([
      'update:alert', 'update:alert',
      'thread_reply:cancel_confirmation', 'thread_reply:cancel_confirmation',
      'thread_reply:cancel_settled', 'thread_reply:cancel_settled',
    ]);
    expect(new Set(written.map((r) => r.alert_id))).toEqual(new Set(alerts));
    // With alert threads there is no post to the channel.
    expect(await rows(`cancel:${campaignId}`)).toEqual([]);
  });

  it('with no alert message, the confirmation and the settled report go to the alert channel', async () => {
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) });
    const dep = deploymentIds[0]!;
    await service.cancel({ target: dep, actor: 'U0ALICE001' });
    expect((await rows(`cancel%${dep}%`)).map((r) => [r.kind, r.alert_id])).toEqual([['post', null], ['post', null]]);
  });

  it('pause and resume edit the alert message each time; no alert, no row', async () => {
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) });
    const dep = deploymentIds[0]!;
    const quiet = (await createCampaignOrThrow(db, { csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) })).deploymentIds[0]!;
    const alertId = await openAlertForTest(db, dep);
    for (const action of ['pause', 'resume', 'pause'] as const) {
      expect(await service[action]({ target: dep, actor: 'U0ALICE001' })).toMatchObject({ outcome: action === 'pause' ? 'paused' : 'resumed' });
    }
    await service.pause({ target: quiet, actor: 'U0ALICE001' });
    const edits = await rows(`alert:${alertId}:%`);
    expect(edits.map((r) => r.dedupe_key.split(':')[2])).toEqual(['opened', 'paused', 'resumed', 'paused']);
    expect(await db.sql`select count(*)::int as n from slack_outbox where payload->>'type' = 'alert' and alert_id not in (select id from alerts)`).toEqual([{ n: 0 }]);
  });
});
