import { App } from '@slack/bolt';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ControlOutcome } from '../../../src/domain/cancel-outcome.js';
import { ok } from '../../../src/domain/result.js';
import type { StatusReport } from '../../../src/services/status.js';
import type { Gate } from '../../../src/slack/access.js';
import { registerActions } from '../../../src/slack/listeners/actions/index.js';
import { registerCommands } from '../../../src/slack/listeners/commands/index.js';
import type { ListenerDeps } from '../../../src/slack/listeners/support.js';
import { registerViews } from '../../../src/slack/listeners/views/index.js';
import { DispatchReceiver } from '../../../src/slack/receiver.js';
import { webApiOptions } from '../../../src/slack/writer.js';
import { testLogger } from '../../support/sending.js';

/**
 * Listeners against fakes of our services and nock for the Slack Web API: what the responder sees
 * when the database is down or slow, or Slack refuses the modal's trigger. Never a claimed success.
 */
const API = 'https://slack.test/api/';
const DEP = 'dep_0000000001';

const report: StatusReport = {
  type: 'deployment',
  campaign: { id: 'cmp_0000000001', name: 'Spring', kind: 'single', status: 'sending', lockedBy: null, lockedAt: null },
  deployment: {
    id: DEP, campaignId: 'cmp_0000000001', name: 'Spring', position: 1, status: 'sending', sendAt: null,
    counts: { total: 10, pending: 5, inFlight: 1, sent: 4, bounced: 0, failed: 0, unknown: 0, cancelled: 0 },
    cancelledBy: null, cancelledAt: null, cancelReason: null, pausedBy: null, pausedAt: null, startedAt: null, completedAt: null, batches: [],
    rates: { bounce: { rate: 0, count: 0, sample: 4 }, error: { rate: 0, count: 0, sample: 4 }, complaint: { rate: 0, count: 0, sample: 4 } },
  },
};

const down = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
const never = () => new Promise<never>(() => undefined);
const allow: Gate = { check: async () => ({ ok: true, role: 'responder' }), setHomeTeam: () => undefined };

async function appWith(overrides: Partial<ListenerDeps>) {
  const receiver = new DispatchReceiver(testLogger);
  const app = new App({ token: 'xoxb-test', botId: 'B1', botUserId: 'U1', tokenVerificationEnabled: false, deferInitialization: true, receiver, clientOptions: webApiOptions(API, 0) });
  await app.init();
  const deps: ListenerDeps = {
    control: { cancel: async () => ({ outcome: 'not_found', target: DEP }), pause: down, resume: down },
    status: { lookup: async () => ok(report), active: async () => [] },
    gate: allow,
    sql: undefined as never,
    logger: testLogger,
    outboxChanged: () => undefined,
    homeChanged: () => undefined,
    publishHome: async () => undefined,
    deadlineMs: 300,
    quickAckMs: 1000,
    ...overrides,
  };
  registerActions(app, deps);
  registerViews(app, deps);
  registerCommands(app, deps);
  return receiver;
}

const click = {
  type: 'block_actions', team: { id: 'T1' }, user: { id: 'U0ALICE001', team_id: 'T1' }, api_app_id: 'A1', token: 't', trigger_id: 'trig-1',
  container: { type: 'message', channel_id: 'C1', message_ts: '1.2' }, channel: { id: 'C1' }, response_url: 'https://hooks.slack.test/r',
  actions: [{ type: 'button', action_id: 'cancel_deployment', block_id: 'b', text: { type: 'plain_text', text: 'Cancel' }, value: `v1:${DEP}`, action_ts: '1' }],
};
const submission = {
  type: 'view_submission', team: { id: 'T1' }, user: { id: 'U0ALICE001', team_id: 'T1' }, api_app_id: 'A1', token: 't', trigger_id: 'trig-2',
  view: { id: 'V1', type: 'modal', callback_id: 'cancel_deployment_confirm', private_metadata: JSON.stringify({ v: 1, target: DEP, deploymentId: DEP, channel: 'C1', ts: '1.2' }), state: { values: { reason: { reason_input: { type: 'plain_text_input', value: 'spike' } } } }, hash: 'h' },
};

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

/** Records the Web API calls a listener makes after its ack. */
function expectCall(method: string) {
  return new Promise<Record<string, string>>((resolve) => {
    nock('https://slack.test').post(`/api/${method}`).reply(200, (_uri, body) => {
      resolve(Object.fromEntries(new URLSearchParams(body as string)));
      return { ok: true, view: { id: 'V9' }, message_ts: '1.3' };
    });
  });
}

describe('listeners when things go wrong', () => {
  it('a Cancel click while Postgres is down: acknowledged at once, then "cannot answer right now", no modal', async () => {
    const receiver = await appWith({ status: { lookup: down, active: down } });
    const ephemeral = expectCall('chat.postEphemeral');
    const started = Date.now();
    expect(await receiver.dispatch({ body: click })).toEqual({ acked: true, response: undefined });
    expect(Date.now() - started).toBeLessThan(200);
    const sent = await ephemeral;
    expect(sent).toMatchObject({ channel: 'C1', user: 'U0ALICE001' });
    expect(sent.text).toMatch(/cannot answer right now/);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('a Cancel click while Postgres hangs: answered before the trigger expires', async () => {
    const receiver = await appWith({ gate: { check: never, setHomeTeam: () => undefined } });
    const ephemeral = expectCall('chat.postEphemeral');
    await receiver.dispatch({ body: click });
    expect((await ephemeral).text).toMatch(/cannot answer right now/);
  });

  it('Slack refusing the trigger (expired_trigger_id) falls back to an ephemeral message', async () => {
    const receiver = await appWith({});
    nock('https://slack.test').post('/api/views.open').reply(200, { ok: false, error: 'expired_trigger_id' });
    const ephemeral = expectCall('chat.postEphemeral');
    await receiver.dispatch({ body: click });
    expect((await ephemeral).text).toMatch(/did not open the confirmation in time.*\/campaign cancel dep_0000000001/);
  });

  it('a submit while Postgres is down shows the error inline and never claims success', async () => {
    for (const cancel of [down, never]) {
      const receiver = await appWith({ control: { cancel, pause: down, resume: down } });
      const answer = await receiver.dispatch({ body: submission });
      expect(answer).toMatchObject({ acked: true, response: { response_action: 'errors', errors: { reason: expect.stringMatching(/cannot cancel right now/) } } });
    }
  });

  it('a submit that loses the race is told who won, inline', async () => {
    const lost: ControlOutcome = { outcome: 'already_cancelled', target: DEP, by: 'U0BOB00001', at: new Date('2026-01-01T00:00:00Z') };
    const receiver = await appWith({ control: { cancel: async () => lost, pause: down, resume: down }, sql: { unsafe: down } as never });
    const answer = await receiver.dispatch({ body: submission });
    expect(answer).toMatchObject({ response: { response_action: 'errors', errors: { reason: `${DEP} was already cancelled by U0BOB00001 at 2026-01-01T00:00:00Z. Cancelled is final.` } } });
  });

  it('/campaign pause while Postgres is down answers within the deadline, without a stack trace', async () => {
    const receiver = await appWith({});
    const body = { token: 't', team_id: 'T1', team_domain: 'a', channel_id: 'C1', channel_name: 'c', user_id: 'U0ALICE001', user_name: 'a', command: '/campaign', text: `pause ${DEP}`, api_app_id: 'A1', response_url: 'https://hooks.slack.test/r', trigger_id: 't' };
    const answer = (await receiver.dispatch({ body })) as { response: { text: string } };
    expect(answer.response.text).toMatch(/cannot answer right now/);
    expect(answer.response.text).not.toMatch(/ECONNREFUSED|at .*\.ts/);
  });

  it('a /campaign answer slower than the quick-ack budget is acknowledged at once and follows through response_url', async () => {
    const slow = () => new Promise<typeof report>((resolve) => setTimeout(() => resolve(report), 150));
    const receiver = await appWith({ status: { lookup: async () => ok(await slow()), active: async () => [] }, quickAckMs: 20 });
    let followUp: { text?: string; response_type?: string } | undefined;
    const hook = nock('https://hooks.slack.test').post('/r').reply(200, (_uri, body) => {
      followUp = body as typeof followUp;
      return { ok: true };
    });
    const body = { token: 't', team_id: 'T1', team_domain: 'a', channel_id: 'C1', channel_name: 'c', user_id: 'U0ALICE001', user_name: 'a', command: '/campaign', text: `status ${DEP}`, api_app_id: 'A1', response_url: 'https://hooks.slack.test/r', trigger_id: 't' };
    const started = Date.now();
    const answer = (await receiver.dispatch({ body })) as { response?: unknown };
    expect(Date.now() - started).toBeLessThan(120);
    expect(answer.response ?? '').toBe('');
    await new Promise((r) => setTimeout(r, 400));
    expect(hook.isDone()).toBe(true);
    expect(followUp).toMatchObject({ response_type: 'ephemeral' });
    expect(followUp!.text).toContain('Spring');
  });
});
