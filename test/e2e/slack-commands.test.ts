import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audienceCsv, createCampaignOrThrow } from '../support/builders.js';
import { buttonClick, commandBody, FORM, interactivityBody, postSlack, SECRET, sendSigned, sign, TEAM, viewSubmission } from '../support/slack.js';
import { slackLimitProblems } from '../support/slack-limits.js';
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
  type Answer = { response_type?: string; text?: string; blocks?: { text?: { text: string }; elements?: { text?: string }[] }[] } | undefined;
  const acked = res.json as Answer;
  const body = acked?.text || acked?.blocks
    ? acked
    : ((await stack.slack.waitFor(() => stack.slack.responses.find((r) => r.path.endsWith(`/${name}`)), 5000, 'the answer through response_url')).body as Answer);
  const shown = [body?.text ?? '', ...(body?.blocks ?? []).flatMap((b) => [b.text?.text ?? '', ...(b.elements ?? []).map((e) => e.text ?? '')])].join('\n');
  expect(shown).not.toMatch(/<!channel>|<!here>|<!everyone>/);
  return { body, shown };
}

describe('/campaign', () => {
  const audited = async () => (await stack.db.sql<{ n: number }[]>`select count(*)::int as n from audit_log`)[0]!.n;
  const statusOf = async (id: string) => (await stack.db.sql`select status from deployments where id = ${id}`)[0]!.status as string;

  it('C1: help, empty text, whitespace and an unknown verb get the usage, ephemeral, and write nothing', async () => {
    const before = await audited();
    for (const text of ['', '   ', 'help', 'HELP']) {
      const { body, shown } = await command(text);
      expect(body?.response_type).toBe('ephemeral');
      expect(shown).toContain('/campaign status');
    }
    const { body, shown } = await command('launch <!channel> now');
    expect(body?.response_type).toBe('ephemeral');
    expect(shown).toContain("I don't know `launch`");
    expect(shown).toContain('/campaign cancel');
    expect(await audited()).toBe(before);
    expect(await statusOf(dep)).toBe('scheduled');
  });

  it('C2: 4,000 characters or 100 words are refused as too long, before anything is looked up', async () => {
    const before = await audited();
    expect((await command(`status ${'x'.repeat(4000)}`)).shown).toMatch(/too long for a command \(4007 characters; at most 256\)/);
    expect((await command(`pause ${dep} ${Array.from({ length: 99 }, () => 'a').join(' ')}`)).shown).toMatch(/too long for a command \(101 words; at most 40\)/);
    // Not even a refusal is audited: nothing was read, so nobody was checked.
    expect((await command(`cancel ${dep} ${'x'.repeat(300)}`, 'U0STRANGER')).shown).toMatch(/too long/);
    expect(await audited()).toBe(before);
    expect(await statusOf(dep)).toBe('scheduled');
  });

  it('C3: an unknown id and the id of a removed deployment get the same "not found, or not permitted" answer', async () => {
    const removed = (await createCampaignOrThrow(stack.db, { name: 'Removed', csv: audienceCsv(3), sendAt: new Date(Date.now() + 3_600_000) })).deploymentIds[0]!;
    await stack.db.sql`delete from audience_chunks where deployment_id = ${removed}`;
    await stack.db.sql`delete from batches where deployment_id = ${removed}`;
    await stack.db.sql`delete from deployments where id = ${removed}`;
    const unknown = 'dep_zzzzzzzzzz';
    for (const verb of ['status', 'pause', 'resume', 'cancel']) {
      const [a, b] = [(await command(`${verb} ${unknown}`)).shown, (await command(`${verb} ${removed}`)).shown];
      expect(a).toContain(`\`${unknown}\` was not found, or you may not see it. Nothing was changed.`);
      expect(b.replaceAll(removed, unknown)).toBe(a);
    }
    expect(stack.slack.ok('views.open').filter((c) => JSON.stringify(c.args).includes(removed))).toEqual([]);
  });

  it('C4 C5 C6: injection, NUL and look-alike ids are refused before the database, never echoed raw; full-width forms are the id (NFKC)', async () => {
    const before = await audited();
    const bad = ["'; DROP TABLE deployments;--", '1 OR 1=1', '../../etc', '${7*7}', '{{7*7}}', '%00', 'dep_１２３', dep.replace('d', '\u0434'), `${dep}\u200b`, `\u202e${dep}`, `${dep.slice(0, -1)}\u0663`, `${dep.slice(0, -1)}💥`];
    for (const id of bad) {
      const { shown } = await command(`pause ${id}`);
      expect(shown).toMatch(/needs an id like/);
      expect(shown).not.toMatch(/[\u200b\u202e]/);
    }
    expect((await command(`pause ${dep}\u0000`)).shown).toMatch(/control characters \(such as NUL\), so it was not read/);
    expect((await command('pause')).shown).toMatch(/needs an id like/);
    expect(await audited()).toBe(before);
    expect(await statusOf(dep)).toBe('scheduled');
    // NFKC maps full-width letters and digits to ASCII: the same id, typed by a full-width keyboard.
    const fullWidth = Array.from(dep, (c) => String.fromCodePoint(c === '_' ? 0xff3f : c.codePointAt(0)! + 0xfee0)).join('');
    expect((await command(`pause ${fullWidth}`)).shown).toContain(`Paused ${dep}`);
    expect((await command(`resume ${dep}`)).shown).toContain(`Resumed ${dep}`);
  });

  it('C7: Slack-formatted tokens are treated as text: never an id, escaped when shown', async () => {
    const before = await audited();
    for (const token of ['<@U0ALICE001>', '<#C0ALERTS01|campaign-alerts>', '<!channel>', '<mailto:a@b.example|a@b.example>', `<https://x.example|${dep}>`]) {
      const cancel = await command(`cancel ${token}`);
      expect(cancel.shown).toMatch(/needs an id like/);
      expect(cancel.shown).not.toMatch(/<[@#!]|<mailto|<https/);
      const asVerb = await command(`${token} hi`);
      expect(asVerb.shown).toContain("I don't know `&lt;");
    }
    expect((await command('status <#C0ALERTS01|campaign-alerts>')).shown).toContain('`&lt;#C0ALERTS01|campaign-alerts&gt;` was not found');
    expect(await audited()).toBe(before);
    expect(await statusOf(dep)).toBe('scheduled');
  });

  it('C8: a reason with newlines, CR, control and bidi characters, 10 KB long: one line of 500 characters in the database and the audit log, escaped in Slack', async () => {
    const target = (await createCampaignOrThrow(stack.db, { name: 'Reasoned', csv: audienceCsv(3), sendAt: new Date(Date.now() + 3_600_000) })).deploymentIds[0]!;
    // `/campaign cancel <id> <reason>`: the reason fills the modal's field, where it can still be edited.
    const before = stack.slack.ok('views.open').length;
    await sendSigned(stack.base, commandBody(`cancel ${target} bounce spike\nfrom <!channel>`));
    const opened = await stack.slack.waitFor(() => stack.slack.ok('views.open')[before]);
    const view = opened.args.view as { private_metadata: string; blocks: { block_id?: string; hint?: { text: string }; element?: { initial_value?: string; max_length?: number } }[] };
    const field = view.blocks.find((b) => b.block_id === 'reason')!;
    expect(field.element).toMatchObject({ initial_value: 'bounce spike from <!channel>', max_length: 500 });
    expect(field.hint!.text).toBe("Kept as one line of at most 500 characters, in the audit log and the alert's thread.");

    // Slack limits the field to 500 characters; a submit that carries more is cut, and cleaned, all the same.
    const typed = `line one\r\nline two\u001b[31m red <!channel> \u202egnirts\u0000 ${'x'.repeat(10_000)}`;
    const res = await sendSigned(stack.base, viewSubmission({ id: 'V0REASON001', privateMetadata: view.private_metadata, reason: typed }, 'U0ALICE001'));
    expect(res.text).toBe('');
    const [row] = await stack.db.sql<{ cancel_reason: string; status: string }[]>`select cancel_reason, status from deployments where id = ${target}`;
    expect(row!.status).toBe('cancelled');
    expect(row!.cancel_reason).toHaveLength(500);
    expect(row!.cancel_reason.startsWith('line one line two [31m red <!channel>')).toBe(true);
    // eslint-disable-next-line no-control-regex
    expect(row!.cancel_reason).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
    expect(await stack.db.sql`select reason from audit_log where action = 'cancel' and target_id = ${target} and outcome = 'ok'`).toEqual([{ reason: row!.cancel_reason }]);
    const confirmation = await stack.slack.waitFor(() => stack.slack.ok('chat.postMessage').find((c) => String(c.args.text).includes(`Cancelled ${target}`)), 10_000, 'the cancel confirmation');
    expect(String(confirmation.args.text)).toContain('Reason: line one line two [31m red &lt;!channel&gt;');
    expect(JSON.stringify(confirmation.args)).not.toContain('<!channel>');
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
    expect(missing.shown).toContain('`&lt;!channel&gt; nothing` was not found, or you may not see it.');
  });

  it('pause and resume act, with the CLI words; bad ids are refused before the database', async () => {
    expect((await command(`pause ${dep}`)).shown).toContain(`Paused ${dep}`);
    expect((await command(`resume ${dep}`)).shown).toContain(`Resumed ${dep}`);
    for (const bad of ["'; DROP TABLE deployments;--", '1 OR 1=1', 'dep_１２３', '${7*7}']) {
      expect((await command(`pause ${bad}`)).shown).toMatch(/needs an id like/);
    }
    expect((await command('pause')).shown).toMatch(/needs an id like/);
    expect((await command('pause dep_zzzzzzzzzz')).shown).toMatch(/`dep_zzzzzzzzzz` was not found, or you may not see it/);
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
    const pauses = await stack.db.sql`select count(*)::int as n from audit_log where action = 'pause'`;
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
    expect(await stack.db.sql`select count(*)::int as n from audit_log where action = 'pause'`).toEqual(pauses);
    expect((await fetch(`${stack.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${stack.base}/readyz`)).status).toBe(200);
  });

  it('T3: /campaign status, the Status button and View of a 50-deployment × 2-batch multi campaign stay within Slack limits, the rest summarised', async () => {
    const big = await createCampaignOrThrow(stack.db, { name: `Big ${'&'.repeat(150)} push`, kind: 'multi', deployments: 50, batches: 2, batchIntervalMs: 600_000, csv: audienceCsv(200), sendAt: new Date(Date.now() + 3_600_000) });
    // The command's answer (in the acknowledgement or through response_url; the fake refuses one over the limits, as Slack does).
    const { body, shown } = await command(`status ${big.campaignId}`);
    expect(slackLimitProblems('message', body!)).toEqual([]);
    expect(shown).toContain(big.deploymentIds[0]);
    expect(shown).toMatch(/…and \d+ more deployments \(\d+ scheduled; /);
    expect(shown).toContain(`campaign-guard status ${big.campaignId}`);

    // The Status button (ephemeral in the channel) and View (a modal, from App Home).
    const before = stack.slack.ok('chat.postEphemeral').length;
    await sendSigned(stack.base, buttonClick({ actionId: 'deployment_status', value: `v1:${big.campaignId}` }, 'U0ALICE001'));
    const ephemeral = await stack.slack.waitFor(() => stack.slack.ok('chat.postEphemeral')[before], 5000, 'the Status answer');
    expect(JSON.stringify(ephemeral.args.blocks)).toContain('more deployments');
    const view = interactivityBody({
      type: 'block_actions', team: { id: TEAM, domain: 'acme' }, user: { id: 'U0ALICE001', username: 'alice', team_id: TEAM }, api_app_id: 'A0APP00001', token: 't',
      container: { type: 'view', view_id: 'V0HOME0001' }, trigger_id: '245.227.big',
      view: { id: 'V0HOME0001', type: 'home', blocks: [], private_metadata: '', callback_id: '', state: { values: {} }, hash: 'h' },
      actions: [{ type: 'button', block_id: 'row_x', action_id: 'view_campaign', text: { type: 'plain_text', text: 'View' }, value: `v1:${big.campaignId}`, action_ts: '1' }],
    });
    await sendSigned(stack.base, view);
    const opened = await stack.slack.waitFor(() => stack.slack.ok('views.open').find((c) => c.args.trigger_id === '245.227.big'), 5000, 'the View modal');
    for (const id of big.deploymentIds) expect(JSON.stringify(opened.args.view)).toContain(id);
    expect(stack.slack.overLimits()).toEqual([]);
  });
});
