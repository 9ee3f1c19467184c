import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeOutcome } from '../../../src/domain/cancel-outcome.js';
import { CAMPAIGN_STATUSES, DEPLOYMENT_STATUSES } from '../../../src/domain/lifecycle.js';
import { createAccessService } from '../../../src/services/access.js';
import { createControlService } from '../../../src/services/control.js';
import { createPauseResume } from '../../../src/services/sending/pause-resume.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { testLogger } from '../../support/sending.js';

/** Every (kind, status) × (cancel, pause, resume) through the service, against a real database. */
let db: TestDatabase;
let service: ReturnType<typeof createControlService>;

beforeAll(async () => {
  db = await createTestDatabase();
  const announcer = { announce: async () => {} };
  service = createControlService({ database: db, announcer, pauseResume: createPauseResume({ database: db, announcer }), logger: testLogger });
  await createAccessService({ db: db.db, clock: () => new Date() }).grant('U_RESP', 'responder', 'test');
});
afterAll(async () => {
  await db.drop();
});

type Action = 'cancel' | 'pause' | 'resume';
const DONE: Record<Action, string> = { cancel: 'cancelled', pause: 'paused', resume: 'resumed' };

const SINGLE: Record<Action, Record<string, string>> = {
  cancel: { draft: 'not_allowed', scheduled: 'cancelled', prefetching: 'cancelled', prefetched: 'cancelled', sending: 'cancelled', paused: 'cancelled', completed: 'already_completed', cancelled: 'already_cancelled' },
  pause: { draft: 'not_allowed', scheduled: 'paused', prefetching: 'paused', prefetched: 'paused', sending: 'paused', paused: 'not_allowed', completed: 'not_allowed', cancelled: 'already_cancelled' },
  resume: { draft: 'not_allowed', scheduled: 'not_allowed', prefetching: 'not_allowed', prefetched: 'not_allowed', sending: 'not_allowed', paused: 'resumed', completed: 'not_allowed', cancelled: 'already_cancelled' },
};
const MULTI: Record<Action, Record<string, string>> = {
  cancel: { draft: 'not_allowed', scheduled: 'cancelled', sending: 'cancelled', paused: 'cancelled', completed: 'already_completed', cancelled: 'already_cancelled' },
  pause: { draft: 'not_allowed', scheduled: 'paused', sending: 'paused', paused: 'not_allowed', completed: 'not_allowed', cancelled: 'already_cancelled' },
  resume: { draft: 'not_allowed', scheduled: 'not_allowed', sending: 'not_allowed', paused: 'resumed', completed: 'not_allowed', cancelled: 'already_cancelled' },
};

const cases = [
  ...(['cancel', 'pause', 'resume'] as Action[]).flatMap((action) => DEPLOYMENT_STATUSES.map((status) => ({ kind: 'single' as const, action, status, expected: SINGLE[action][status]! }))),
  ...(['cancel', 'pause', 'resume'] as Action[]).flatMap((action) => CAMPAIGN_STATUSES.map((status) => ({ kind: 'multi' as const, action, status, expected: MULTI[action][status]! }))),
];

describe('control outcomes', () => {
  it.each(cases)('$kind $status: $action → $expected', async ({ kind, action, status, expected }) => {
    const created = await createCampaignOrThrow(db, { kind, deployments: kind === 'multi' ? 2 : undefined, csv: audienceCsv(6), sendAt: new Date(Date.now() + 3_600_000) });
    await db.sql`update deployments set status = ${status}, cancelled_by = ${status === 'cancelled' ? 'U_FIRST' : null}, cancelled_at = ${status === 'cancelled' ? new Date().toISOString() : null} where campaign_id = ${created.campaignId}`;
    await db.sql`update campaigns set status = ${kind === 'single' ? (['prefetching', 'prefetched'].includes(status) ? 'scheduled' : status) : status}, cancelled_by = ${status === 'cancelled' ? 'U_FIRST' : null}, cancelled_at = ${status === 'cancelled' ? new Date().toISOString() : null} where id = ${created.campaignId}`;
    const target = kind === 'single' ? created.deploymentIds[0]! : created.campaignId;

    const outcome = await service[action]({ target, actor: 'U_RESP' });
    expect(outcome.outcome).toBe(expected);
    expect(describeOutcome(outcome).length).toBeGreaterThan(10);
    if (expected === 'already_cancelled') expect(outcome).toMatchObject({ by: 'U_FIRST' });

    const after = (await db.sql<{ status: string }[]>`select status from deployments where campaign_id = ${created.campaignId}`).map((r) => r.status);
    if (expected === DONE[action]) {
      if (action !== 'resume') expect(after.every((s) => s === DONE[action])).toBe(true);
      else expect(after.every((s) => s !== 'paused')).toBe(true);
    } else {
      expect(after.every((s) => s === status)).toBe(true); // a refusal changes nothing
    }
  });
});
