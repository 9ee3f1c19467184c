import { App } from '@slack/bolt';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
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
  campaign: { id: 'cmp_0000000001', name: 'Spring', kind: 'single', status: 'sending', lockedBy: null, lockedAt: null, priority: 'normal', sendWeight: 1 },
  deployment: {
    id: DEP, campaignId: 'cmp_0000000001', name: 'Spring', position: 1, status: 'sending', sendAt: null,
    counts: { total: 10, pending: 5, inFlight: 1, sent: 4, bounced: 0, failed: 0, unknown: 0, cancelled: 0 },
    cancelledBy: null, cancelledAt: null, cancelReason: null, pausedBy: null, pausedAt: null, startedAt: null, completedAt: null, lastHandOffAt: null, pace: null, batches: [],
    rates: { bounce: { rate: 0, count: 0, sample: 4 }, error: { rate: 0, count: 0, sample: 4 }, complaint: { rate: 0, count: 0, sample: 4 } },
  },
};

const down = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
const never = () => new Promise<never>(() => undefined);
// A pool whose database is down: a query fails when it runs (awaited), and a fragment (unsafe) is
// lazy like postgres.js's, failing only if it is run on its own.
const downSql = Object.assign(() => down(), { unsafe: () => ({ then: (onOk: () => unknown, onError: (e: unknown) => unknown) => down().then(onOk, onError) }) });
const allow: Gate = { check: async () => ({ ok: true, role: 'responder' }), recordRefusal: async () => undefined, setHomeTeam: () => undefined };

async function appWith(overrides: Partial<ListenerDeps>) {
  const receiver = new DispatchReceiver(testLogger);
  const app = new App({ token: 'xoxb-test', botId: 'B1', botUserId: 'U1', tokenVerificationEnabled: false, deferInitialization: true, receiver, clientOptions: webApiOptions(API, 0) });
  await app.init();
  const deps: ListenerDeps = {
    control: { cancel: async () => ({ outcome: 'not_found', target: DEP }), pause: down, resume: down },
    status: { lookup: async () => ok(report), active: async () => [] },
    onCall: { acknowledge: down, snooze: down },
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
  view: { id: 'V1', type: 'modal', callback_id: 'cancel_deployment_confirm', private_metadata: JSON.stringify({ v: 1, target: DEP, deploymentId: DEP, channel: 'C1', ts: '1.2' }), state: { values: { reason: { reason_input: { type: 'plain_text_input', value: 'spike' } }, confirm: { confirm_input: { type: 'plain_text_input', value: 'CANCEL' } } } }, hash: 'h' },
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
    const receiver = await appWith({ gate: { ...allow, check: never } });
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
    const receiver = await appWith({ control: { cancel: async () => lost, pause: down, resume: down }, sql: downSql as never });
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

describe('listeners refuse bad input before anything is looked up', () => {
  /** Deps that record every call a listener makes to permission, status or control (each is a query). */
  function recording() {
    const touched: string[] = [];
    const refusals: string[] = [];
    const note = (what: string) => async () => {
      touched.push(what);
      throw new Error(`${what} must not be called`);
    };
    const deps: Partial<ListenerDeps> = {
      gate: { check: note('gate.check'), recordRefusal: async (_who, action, _target, why) => void refusals.push(`${action}: ${why}`), setHomeTeam: () => undefined },
      status: { lookup: note('status.lookup'), active: note('status.active') },
      control: { cancel: note('control.cancel'), pause: note('control.pause'), resume: note('control.resume') },
      onCall: { acknowledge: note('onCall.acknowledge'), snooze: note('onCall.snooze') },
    };
    return { deps, touched, refusals };
  }
  const command = (text: string) => ({ token: 't', team_id: 'T1', team_domain: 'a', channel_id: 'C1', channel_name: 'c', user_id: 'U0ALICE001', user_name: 'a', command: '/campaign', text, api_app_id: 'A1', response_url: 'https://hooks.slack.test/r', trigger_id: 't' });

  it('C2 C4 C5 C6: too long, malformed, NUL and look-alike ids are answered without a permission check or a query', async () => {
    const { deps, touched } = recording();
    const receiver = await appWith(deps);
    const cases: [string, RegExp][] = [
      [`cancel ${'x'.repeat(4000)}`, /too long/],
      [`pause ${Array.from({ length: 100 }, (_, i) => i).join(' ')}`, /too long/],
      ["cancel '; DROP TABLE deployments;--", /needs an id like/],
      ['pause 1 OR 1=1', /needs an id like/],
      [`pause ${DEP}\u0000`, /control characters/],
      [`cancel ${DEP.replace('0', '\u0430')}`, /needs an id like/],
      [`resume \u202e${DEP}`, /needs an id like/],
    ];
    for (const [text, expected] of cases) {
      const answer = (await receiver.dispatch({ body: command(text) })) as { response: { response_type: string; text: string } };
      expect(answer.response.response_type).toBe('ephemeral');
      expect(answer.response.text).toMatch(expected);
    }
    expect(touched).toEqual([]);
  });

  it('I4 I7: a button value of another version or tampered is refused without a lookup, and audited', async () => {
    const { deps, touched, refusals } = recording();
    const receiver = await appWith(deps);
    for (const value of [`v2:${DEP}`, JSON.stringify({ v: 2, id: DEP }), `v1:${DEP}' OR '1'='1`, `v1:${DEP}\u0000`]) {
      const ephemeral = expectCall('chat.postEphemeral');
      await receiver.dispatch({ body: { ...click, trigger_id: `t-${value}`, actions: [{ ...click.actions[0]!, value }] } });
      expect((await ephemeral).text).toMatch(/another version of Campaign Guard, or was altered, so nothing was done/);
    }
    expect(touched).toEqual([]);
    await vi.waitFor(() => expect(refusals).toHaveLength(4));
    expect(refusals[0]).toBe(`cancel: button value not understood: v2:${DEP}`);
    expect(refusals[3]).toBe(`cancel: button value not understood: v1:${DEP}\ufffd`);
  });

  it('O7: an Acknowledge value or a Snooze choice that is not ours is refused without a lookup, and audited', async () => {
    const { deps, touched, refusals } = recording();
    const receiver = await appWith(deps);
    const ack = { ...click.actions[0]!, action_id: 'acknowledge_alert', value: 'v2:alr_0000000001' };
    const snooze = { type: 'static_select', action_id: 'snooze_alert', block_id: 'alert_on_call', selected_option: { text: { type: 'plain_text', text: 'x' }, value: 'v1:alr_0000000001:forever' }, action_ts: '1' };
    for (const action of [ack, snooze]) {
      const ephemeral = expectCall('chat.postEphemeral');
      await receiver.dispatch({ body: { ...click, trigger_id: `t-${action.action_id}`, actions: [action] } });
      expect((await ephemeral).text).toMatch(/another version of Campaign Guard, or was altered, so nothing was done/);
    }
    expect(touched).toEqual([]);
    await vi.waitFor(() => expect(refusals).toEqual(['acknowledge: button value not understood: v2:alr_0000000001', 'snooze: button value not understood: v1:alr_0000000001:forever']));
  });

  it('a link button (runbook, dashboard) is acknowledged and nothing else happens', async () => {
    const { deps, touched } = recording();
    const receiver = await appWith(deps);
    const link = { ...click.actions[0]!, action_id: 'open_alert_runbook', value: 'v1:alr_0000000001', url: 'https://wiki.example.com/r' };
    expect(await receiver.dispatch({ body: { ...click, actions: [link] } })).toEqual({ acked: true, response: undefined });
    await new Promise((r) => setTimeout(r, 100));
    expect(touched).toEqual([]);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('I7: tampered private_metadata is refused inline and audited; no cancel is tried', async () => {
    const { deps, touched, refusals } = recording();
    const receiver = await appWith(deps);
    const meta = JSON.parse(submission.view.private_metadata) as Record<string, unknown>;
    for (const tampered of [{ ...meta, v: 2 }, { ...meta, target: 'dep_1 OR 1=1' }, { ...meta, deploymentId: '../x' }, { ...meta, channel: 'C1<!channel>' }, [meta], null]) {
      const answer = await receiver.dispatch({ body: { ...submission, view: { ...submission.view, private_metadata: JSON.stringify(tampered) } } });
      expect(answer).toMatchObject({ response: { response_action: 'errors', errors: { reason: expect.stringMatching(/another version of Campaign Guard, or was altered, so nothing was cancelled/) } } });
    }
    expect(touched).toEqual([]);
    // The refusal is audited after the answer (Slack waits for the answer, not for the audit).
    await vi.waitFor(() => expect(refusals).toHaveLength(6));
    expect(refusals.every((r) => r.startsWith('cancel: form metadata not understood: '))).toBe(true);
  });

  it('I6: a typed confirmation that does not match is an error on its field; nothing is checked or cancelled', async () => {
    const { deps, touched } = recording();
    const receiver = await appWith(deps);
    for (const typed of [null, '', 'yes', 'CANCEL IT', 'CANCE', 'dep_0000000001', 'СANCEL' /* Cyrillic С */]) {
      const values = { ...submission.view.state.values, confirm: { confirm_input: { type: 'plain_text_input', value: typed } } };
      const answer = await receiver.dispatch({ body: { ...submission, view: { ...submission.view, state: { values } } } });
      expect(answer).toMatchObject({ response: { response_action: 'errors', errors: { confirm: 'Type CANCEL to confirm. Nothing was cancelled.' } } });
    }
    expect(touched).toEqual([]);
    // Any case and surrounding spaces are fine: the word is what matters.
    const cancelled: string[] = [];
    const ok = await appWith({ control: { cancel: async (r) => (cancelled.push(r.target), { outcome: 'cancelled', target: r.target, deploymentIds: [r.target], counts: { contacted: 0, inFlight: 0, neverSent: 1 }, at: new Date() }), pause: down, resume: down } });
    const values = { ...submission.view.state.values, confirm: { confirm_input: { type: 'plain_text_input', value: '  cancel ' } } };
    expect(await ok.dispatch({ body: { ...submission, view: { ...submission.view, state: { values } } } })).toEqual({ acked: true, response: undefined });
    expect(cancelled).toEqual([DEP]);
  });
});
