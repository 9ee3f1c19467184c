import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audienceCsv, createCampaignOrThrow } from '../support/builders.js';
import { commandBody, FORM, interactivityBody, postSlack, SECRET, sendSigned, sign } from '../support/slack.js';
import { startSlackStack, type SlackStack } from './harness.js';

/** Done-when 4: every `/campaign` subcommand, and nonsense, answered within 3 s, usefully, never echoing raw text. */
let stack: SlackStack;
let dep: string;
let campaignId: string;

beforeAll(async () => {
  stack = await startSlackStack();
  await stack.app.services.access.grant('U0ALICE001', 'responder', 'test');
  await stack.app.services.access.grant('U0VIEWER01', 'viewer', 'test');
  const created = await createCampaignOrThrow(stack.db, { name: 'Spring <!channel> Sale', csv: audienceCsv(20), sendAt: new Date(Date.now() + 3_600_000) });
  dep = created.deploymentIds[0]!;
  campaignId = created.campaignId;
});
afterAll(async () => {
  await stack?.stop();
});

let answers = 0;
/** The answer is in the acknowledgement, or (a slow database) follows through the response_url. */
async function command(text: string, user = 'U0ALICE001', team?: string) {
  const name = `answer-${++answers}`;
  const res = await sendSigned(stack.base, commandBody(text, user, { team, responseUrl: stack.slack.responseUrl(name) }));
  expect(res.status).toBe(200);
  expect(res.ms).toBeLessThan(3000);
  type Answer = { response_type?: string; text?: string; blocks?: { text?: { text: string } }[] } | undefined;
  const acked = res.json as Answer;
  const body = acked?.text || acked?.blocks
    ? acked
    : ((await stack.slack.waitFor(() => stack.slack.responses.find((r) => r.path.endsWith(`/${name}`)), 5000, 'the answer through response_url')).body as Answer);
  const shown = [body?.text ?? '', ...(body?.blocks ?? []).map((b) => b.text?.text ?? '')].join('\n');
  expect(shown).not.toMatch(/<!channel>|<!here>|<!everyone>/);
  return { body, shown };
}

describe('/campaign', () => {
  it('help, empty text and nonsense get the usage, ephemeral', async () => {
    for (const text of ['', '   ', 'help', 'HELP']) {
      const { body, shown } = await command(text);
      expect(body?.response_type).toBe('ephemeral');
      expect(shown).toContain('/campaign status');
    }
    const { shown } = await command('launch <!channel> now');
    expect(shown).toContain("I don't know `launch`");
    expect(shown).toContain('/campaign cancel');
    const weird = await command('<!channel> hi');
    expect(weird.shown).toContain('&lt;!channel&gt;');
    const long = await command(`status ${'x'.repeat(4000)}`);
    expect(long.shown).toMatch(/too long/);
  });

  it('status lists the active deployments, escaping names', async () => {
    const { shown } = await command('status');
    expect(shown).toContain(dep);
    expect(shown).toContain('Spring &lt;!channel&gt; Sale');
    expect(shown).toMatch(/scheduled/);
  });

  it('status <id or name> shows one; an unknown one is not found, escaped', async () => {
    expect((await command(`status ${dep}`)).shown).toContain(dep);
    expect((await command(`status ${campaignId}`)).shown).toContain(campaignId);
    expect((await command('status Spring <!channel> Sale')).shown).toContain(dep);
    const missing = await command('status <!channel> nothing');
    expect(missing.shown).toMatch(/No campaign or deployment matches/);
  });

  it('pause and resume act, with the CLI words; bad ids are refused before the database', async () => {
    expect((await command(`pause ${dep}`)).shown).toContain(`Paused ${dep}`);
    expect((await command(`resume ${dep}`)).shown).toContain(`Resumed ${dep}`);
    for (const bad of ["'; DROP TABLE deployments;--", '1 OR 1=1', 'dep_１２３', '${7*7}']) {
      expect((await command(`pause ${bad}`)).shown).toMatch(/needs an id like/);
    }
    expect((await command('pause')).shown).toMatch(/needs an id like/);
    expect((await command('pause dep_zzzzzzzzzz')).shown).toMatch(/No campaign, deployment or batch matches/);
  });

  it('cancel <id> opens the confirmation modal; viewers and strangers are refused and audited', async () => {
    const before = stack.slack.ok('views.open').length;
    const res = await sendSigned(stack.base, commandBody(`cancel ${dep}`));
    expect(res.status).toBe(200);
    const opened = await stack.slack.waitFor(() => stack.slack.ok('views.open')[before]);
    const view = opened.args.view as { callback_id: string; private_metadata: string; blocks: unknown[] };
    expect(view.callback_id).toBe('cancel_deployment_confirm');
    expect(JSON.parse(view.private_metadata)).toMatchObject({ target: dep });
    expect(JSON.stringify(view.blocks)).toContain('This cannot be undone; the campaign cannot be restarted');

    expect((await command(`cancel ${dep}`, 'U0VIEWER01')).shown).toMatch(/only responders and admins may cancel/);
    expect((await command(`cancel ${dep}`, 'U0STRANGER')).shown).toMatch(/no access/);
    expect((await command('status', 'U0ALICE001', 'T0OUTSIDE1')).shown).toMatch(/own workspace/);
    const audited = await stack.db.sql`select actor, action, outcome from audit_log where outcome = 'refused' order by id`;
    expect(audited).toEqual(
      expect.arrayContaining([
        { actor: 'U0VIEWER01', action: 'slack.cancel', outcome: 'refused' },
        { actor: 'U0STRANGER', action: 'slack.cancel', outcome: 'refused' },
        { actor: 'U0ALICE001', action: 'slack.status', outcome: 'refused' },
      ]),
    );
    expect((await stack.db.sql`select status from deployments where id = ${dep}`)[0]!.status).toBe('scheduled');
  });
});

describe('the running app’s front door (Done-when 3)', () => {
  it('refuses forged, stale and unsigned requests with 401, never dispatches ssl_check, refuses 5 MB, and stays healthy', async () => {
    const body = commandBody(`pause ${dep}`);
    const ts = Math.floor(Date.now() / 1000);
    const forged = { 'content-type': FORM, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sign('not-the-secret-0123456789abcdef', ts, body) };
    const stale = { 'content-type': FORM, 'x-slack-request-timestamp': String(ts - 301), 'x-slack-signature': sign(SECRET, ts - 301, body) };
    for (const headers of [forged, stale, { 'content-type': FORM }]) expect((await postSlack(stack.base, body, headers)).status).toBe(401);
    const smuggled = `ssl_check=1&${interactivityBody({ type: 'block_actions', user: { id: 'U0ALICE001' }, actions: [{ action_id: 'pause_deployment', value: `v1:${dep}` }] })}`;
    expect((await postSlack(stack.base, smuggled, { 'content-type': FORM })).status).toBe(200);
    const big = await fetch(`${stack.base}/slack/events`, { method: 'POST', headers: { 'content-type': FORM }, body: Buffer.alloc(5 * 1024 * 1024, 'a') }).catch(() => undefined);
    if (big) expect(big.status).toBe(413);
    await new Promise((r) => setTimeout(r, 200));
    expect((await stack.db.sql`select status from deployments where id = ${dep}`)[0]!.status).toBe('scheduled');
    expect(await stack.db.sql`select count(*)::int as n from audit_log where action = 'pause'`).toEqual([{ n: 1 }]);
    expect((await fetch(`${stack.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${stack.base}/readyz`)).status).toBe(200);
  });
});
