import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audienceCsv, createCampaignOrThrow } from '../support/builders.js';
import { buttonClick, CHANNEL, commandBody, interactivityBody, sendSigned, TEAM } from '../support/slack.js';
import { startSlackStack, type SlackStack } from './harness.js';

/**
 * Who may act, and where (catalogue C9, C10, I8), through signed requests to the running app:
 * every refusal is explained to the asker only, audited, and changes nothing (no cancel, no
 * pause, no modal, no outbox row).
 */
let stack: SlackStack;
let dep: string;
const INCIDENTS = 'C0INCIDNT1';
const ALICE = 'U0ALICE001';
const WHERE = `It works in <#${CHANNEL}>, <#${INCIDENTS}>.`;

beforeAll(async () => {
  stack = await startSlackStack({ SLACK_ALLOWED_CHANNELS: INCIDENTS });
  for (const user of [ALICE, 'U0DEACT001', 'U0GUEST001', 'U0GUEST002', 'U0STRANGE1', 'U0OTHERORG']) await stack.app.services.access.grant(user, 'responder', 'test');
  await stack.app.services.access.grant('U0VIEWER01', 'viewer', 'test');
  stack.slack.setUser('U0DEACT001', { deleted: true });
  stack.slack.setUser('U0GUEST001', { is_restricted: true });
  stack.slack.setUser('U0GUEST002', { is_restricted: true, is_ultra_restricted: true });
  stack.slack.setUser('U0STRANGE1', { is_stranger: true });
  stack.slack.setUser('U0OTHERORG', { team_id: 'T0OTHERORG' });
  dep = (await createCampaignOrThrow(stack.db, { name: 'Guarded', csv: audienceCsv(10), sendAt: new Date(Date.now() + 3_600_000) })).deploymentIds[0]!;
});
afterAll(async () => {
  await stack?.stop();
});

let answers = 0;
async function command(text: string, user = ALICE, options: { channel?: string; channelName?: string; team?: string } = {}) {
  const name = `access-${++answers}`;
  const res = await sendSigned(stack.base, commandBody(text, user, { ...options, responseUrl: stack.slack.responseUrl(name) }));
  expect(res.status).toBe(200);
  expect(res.ms).toBeLessThan(3000);
  type Answer = { response_type?: string; text?: string } | undefined;
  const acked = res.json as Answer;
  const body = acked?.text ? acked : ((await stack.slack.waitFor(() => stack.slack.responses.find((r) => r.path.endsWith(`/${name}`)), 5000)).body as Answer);
  expect(body?.response_type).toBe('ephemeral');
  return String(body?.text);
}

async function clickAnswer(body: string, user: string) {
  const before = stack.slack.ok('chat.postEphemeral').filter((c) => c.args.user === user).length;
  const res = await sendSigned(stack.base, body);
  expect(res.status).toBe(200);
  expect(res.ms).toBeLessThan(3000);
  const told = await stack.slack.waitFor(() => stack.slack.ok('chat.postEphemeral').filter((c) => c.args.user === user)[before]);
  return String(told.args.text);
}

/** Nothing happened to the deployment: still scheduled, no control audit row, no outbox row, no modal about it. */
async function expectUnchanged() {
  expect((await stack.db.sql`select status from deployments where id = ${dep}`)[0]!.status).toBe('scheduled');
  expect(await stack.db.sql`select action from audit_log where target_id = ${dep} and outcome = 'ok'`).toEqual([]);
  expect(await stack.db.sql`select id from slack_outbox`).toEqual([]);
  expect(stack.slack.ok('views.open').filter((c) => JSON.stringify(c.args).includes(dep))).toEqual([]);
}

const refusalsOf = (user: string) => stack.db.sql`select action, target_id, outcome, reason from audit_log where actor = ${user} order by id`;

const PLACES = [
  { channel: 'D0DMALICE1', channelName: 'directmessage', why: 'a direct message' },
  { channel: 'G0GROUPDM1', channelName: 'mpdm-alice--bob-1', why: 'a group direct message' },
  { channel: 'C0RANDOM01', channelName: 'random', why: 'a channel not on the list' },
  // A Slack Connect channel shared with another organisation: not on the list unless an admin puts it there.
  { channel: 'C0SHARED01', channelName: 'acme-partner-shared', why: 'a channel not on the list' },
];

describe('where /campaign and the buttons work', () => {
  it('C9: a command from a DM, a group DM, a channel not on the list or a shared channel is "not allowed here", audited, and changes nothing', async () => {
    for (const place of PLACES) {
      for (const text of [`cancel ${dep}`, `pause ${dep}`, 'status']) {
        expect(await command(text, ALICE, place)).toBe(`:no_entry: Campaign Guard is not allowed here (this is ${place.why}), so nothing was changed. ${WHERE}`);
      }
    }
    const audited = await refusalsOf(ALICE);
    expect(audited).toHaveLength(12);
    expect(audited[0]).toEqual({ action: 'slack.cancel', target_id: dep, outcome: 'refused', reason: 'D0DMALICE1 is a direct message' });
    expect(audited[11]).toEqual({ action: 'slack.status', target_id: null, outcome: 'refused', reason: 'C0SHARED01 is a channel not on the list' });
    await expectUnchanged();
    // The usage shows no data: it answers anywhere.
    expect(await command('help', ALICE, PLACES[0])).toContain('/campaign status');
    // SLACK_ALLOWED_CHANNELS adds a channel to the alert channel.
    expect(await command(`status ${dep}`, ALICE, { channel: INCIDENTS, channelName: 'incidents' })).toContain('Guarded');
  });

  it('I8: a click on a message in a channel we do not own, a DM or a shared channel is refused and audited; App Home and our own modals stay allowed', async () => {
    for (const place of PLACES.slice(1)) {
      for (const actionId of ['cancel_deployment', 'pause_deployment', 'deployment_status']) {
        const text = await clickAnswer(buttonClick({ actionId, value: `v1:${dep}` }, 'U0VIEWER01', place), 'U0VIEWER01');
        expect(text).toBe(`:no_entry: Campaign Guard is not allowed here (this is ${place.why}), so nothing was changed. ${WHERE}`);
      }
    }
    expect((await refusalsOf('U0VIEWER01')).map((r) => `${r.action} ${r.reason}`)).toEqual(
      PLACES.slice(1).flatMap((p) => ['slack.cancel', 'slack.pause', 'slack.status'].map((a) => `${a} ${p.channel} is ${p.why}`)),
    );
    await expectUnchanged();

    // App Home (no channel): the Cancel button opens the modal; inside a modal it is pushed on top.
    const fromView = (viewType: 'home' | 'modal', trigger: string) =>
      interactivityBody({
        type: 'block_actions', team: { id: TEAM, domain: 'acme' }, user: { id: ALICE, username: 'alice', team_id: TEAM }, api_app_id: 'A0APP00001', token: 't',
        container: { type: 'view', view_id: `V0${viewType.toUpperCase()}` }, trigger_id: trigger,
        view: { id: `V0${viewType.toUpperCase()}`, type: viewType, blocks: [], private_metadata: '', callback_id: '', state: { values: {} }, hash: 'h' },
        actions: [{ type: 'button', block_id: 'b', action_id: 'cancel_deployment', text: { type: 'plain_text', text: 'Cancel' }, value: `v1:${dep}`, action_ts: '1' }],
      });
    await sendSigned(stack.base, fromView('home', '1.home'));
    await stack.slack.waitFor(() => stack.slack.ok('views.open').find((c) => c.args.trigger_id === '1.home' && JSON.stringify(c.args.view).includes(dep)));
    await sendSigned(stack.base, fromView('modal', '2.modal'));
    await stack.slack.waitFor(() => stack.slack.ok('views.push').find((c) => c.args.trigger_id === '2.modal' && JSON.stringify(c.args.view).includes(dep)));
    // And a listed channel.
    await sendSigned(stack.base, buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, ALICE, { channel: INCIDENTS, channelName: 'incidents' }));
    await stack.slack.waitFor(() => stack.slack.ok('views.open').filter((c) => JSON.stringify(c.args.view).includes(dep))[1]);
  });
});

describe('who may cancel, pause or resume', () => {
  it('C10: no role, a viewer, a deactivated user, both kinds of guest, a stranger and a user of another organisation are refused and audited', async () => {
    const outboxBefore = (await stack.db.sql`select count(*)::int as n from slack_outbox`)[0]!.n;
    const cases: [string, RegExp, string, string?][] = [
      ['U0NOROLE01', /You have no access to Campaign Guard/, 'no operator role'],
      ['U0VIEWER01', /You are a viewer; only responders and admins may/, 'role viewer may not'],
      ['U0DEACT001', /Slack says your account is deactivated; only full members/, 'deactivated in Slack'],
      ['U0GUEST001', /Slack says you are a guest/, 'a guest in Slack'],
      ['U0GUEST002', /Slack says you are a guest/, 'a guest in Slack'],
      ['U0STRANGE1', /Slack says you are not a member of this workspace/, 'a stranger to this workspace in Slack'],
      ['U0OTHERORG', /Slack says your account belongs to another organisation/, 'Slack says team T0OTHERORG, which is not allowed'],
      ['U0OUTSIDE1', /only answers people of its own workspace/, 'team T0OUTSIDE1 is not allowed', 'T0OUTSIDE1'],
    ];
    for (const [user, text, why, team] of cases) {
      expect(await command(`cancel ${dep}`, user, { team })).toMatch(text);
      expect(await command(`pause ${dep}`, user, { team })).toMatch(text);
      expect(await clickAnswer(buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, user, { team }), user)).toMatch(text);
      const audited = (await refusalsOf(user)).filter((r) => r.action !== 'slack.cancel' || r.target_id === dep);
      expect(audited.slice(-3).map((r) => [r.action, r.outcome])).toEqual([['slack.cancel', 'refused'], ['slack.pause', 'refused'], ['slack.cancel', 'refused']]);
      for (const r of audited.slice(-3)) expect(String(r.reason)).toContain(why);
    }
    expect((await stack.db.sql`select status from deployments where id = ${dep}`)[0]!.status).toBe('scheduled');
    expect(await stack.db.sql`select action from audit_log where target_id = ${dep} and outcome = 'ok'`).toEqual([]);
    expect((await stack.db.sql`select count(*)::int as n from slack_outbox`)[0]!.n).toBe(outboxBefore);
    // A full member with the role may (users.info says a normal active member).
    expect(await command(`pause ${dep}`)).toContain(`Paused ${dep}`);
    expect(await command(`resume ${dep}`)).toContain(`Resumed ${dep}`);
  });

  it('C10: when users.info fails (Slack rate-limits us), the operators table alone decides: a responder may still act', async () => {
    stack.slack.fail('users.info', { status: 429, retryAfter: 30 });
    stack.slack.setUser('U0RESPOND1', { deleted: true });
    await stack.app.services.access.grant('U0RESPOND1', 'responder', 'test');
    expect(await command(`pause ${dep}`, 'U0RESPOND1')).toContain(`Paused ${dep}`);
    expect(stack.slack.calls.filter((c) => c.method === 'users.info' && c.args.user === 'U0RESPOND1').map((c) => c.status)).toEqual([429]);
    expect(await command(`resume ${dep}`, 'U0RESPOND1')).toContain(`Resumed ${dep}`);
  });
});
