import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../../../src/domain/roles.js';
import { createAccessService } from '../../../src/services/access.js';
import { createControlService } from '../../../src/services/control.js';
import { createPauseResume } from '../../../src/services/sending/pause-resume.js';
import type { createStopAnnouncer } from '../../../src/queue/stop-signal.js';
import { createGate } from '../../../src/slack/access.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { testLogger } from '../../support/sending.js';

/**
 * Slack's gate and the control service decide who may cancel, pause and resume by one role
 * rule, and file their refusals alike: under the kind of the target (a batch is a batch, not
 * `unknown`), Slack's with the team and where the request came in.
 */
let db: TestDatabase;
let service: ReturnType<typeof createControlService>;
const TEAM = 'T0HOME0001';
const BATCH = 'bat_0123456789';

beforeAll(async () => {
  db = await createTestDatabase();
  const announcer = { announce: async () => undefined } as unknown as ReturnType<typeof createStopAnnouncer>;
  service = createControlService({ database: db, announcer, pauseResume: createPauseResume({ database: db, announcer }), logger: testLogger });
  const access = createAccessService({ db: db.db, clock: () => new Date() });
  for (const role of ROLES) await access.grant(`U0${role.toUpperCase()}`, role, 'test');
});
afterAll(async () => {
  await db.drop();
});

const gate = () => createGate({ sql: db.sql, allowedTeams: [TEAM], allowedChannels: [], logger: testLogger });
const refusalsOf = (actor: string) =>
  db.sql<{ action: string; actor_team: string | null; target_type: string | null; target_id: string | null; details: unknown }[]>`
    select action, actor_team, target_type, target_id, details from audit_log where actor = ${actor} and outcome = 'refused' order by id`;

describe('who may control, and how a refusal is filed', () => {
  it.each(ROLES)('the gate and the service agree on a %s', async (role) => {
    const actor = `U0${role.toUpperCase()}`;
    const verdict = await gate().check({ userId: actor, teamId: TEAM }, 'control', 'pause', 'dep_0123456789', { surface: 'modal' });
    const outcome = await service.pause({ target: 'dep_0123456789', actor });
    // A deployment that does not exist: a permitted actor is told so; a refused one is refused first.
    expect(verdict.ok).toBe(role !== 'viewer');
    expect(outcome.outcome).toBe(role === 'viewer' ? 'not_permitted' : 'not_found');
  });

  it('a refused batch target is filed as a batch, by Slack (with team and via) and by the service alike', async () => {
    const actor = 'U0NOBODY01';
    await gate().check({ userId: actor, teamId: TEAM }, 'control', 'cancel', BATCH, { surface: 'modal' });
    await service.pause({ target: 'dep_0123456789', actor });
    expect(await refusalsOf(actor)).toEqual([
      { action: 'slack.cancel', actor_team: TEAM, target_type: 'batch', target_id: BATCH, details: { via: 'slack' } },
      { action: 'pause', actor_team: null, target_type: 'deployment', target_id: 'dep_0123456789', details: {} },
    ]);
  });

  it('a viewer is refused by both, each saying only responders and admins may', async () => {
    const verdict = await gate().check({ userId: 'U0VIEWER', teamId: TEAM }, 'control', 'pause', 'dep_0123456789', { surface: 'modal' });
    expect(verdict).toEqual({ ok: false, text: ':no_entry: You are a viewer; only responders and admins may pause. Nothing was changed.' });
    expect(await service.pause({ target: 'dep_0123456789', actor: 'U0VIEWER' })).toEqual({
      outcome: 'not_permitted', target: 'dep_0123456789', why: 'U0VIEWER is a viewer; only responders and admins may pause.',
    });
  });
});
