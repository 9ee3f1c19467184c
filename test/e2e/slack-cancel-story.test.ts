import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAlertForTest } from '../support/alerts.js';
import { audienceCsv, createCampaignOrThrow, csv } from '../support/builders.js';
import { waitFor } from '../support/sending.js';
import { buttonClick, CHANNEL, sendSigned, viewSubmission, type FakeCall } from '../support/slack.js';
import { startSlackStack, type SlackStack } from './harness.js';

/**
 * Done-when 1 and 2, end to end: signed requests to the running app, a fake Slack Web API on
 * localhost. Bounce spike → one alert → an outsider's click is refused → two responders submit
 * Cancel at once → exactly one cancel, the loser told who won → the alert edited without buttons
 * → the thread confirmation → the settled report; then stale buttons and a late submit.
 */
let stack: SlackStack;
const ALICE = 'U0ALICE001';
const BOB = 'U0BOB00001';
const CAROL = 'U0CAROL001';

beforeAll(async () => {
  // The story's alert comes from the real monitor: verdicts from 20 messages, at once.
  stack = await startSlackStack({ ALERT_SUSTAIN_SECONDS: '0', ALERT_MIN_SAMPLE: '20', BOUNCE_RATE_WARN: '5%', BOUNCE_RATE_CRITICAL: '10%' });
  for (const user of [ALICE, BOB, CAROL]) await stack.app.services.access.grant(user, 'responder', 'test');
});
afterAll(async () => {
  await stack?.stop();
});

const blocksOf = (call: FakeCall) => JSON.stringify(call.args.blocks ?? []);
const hasButtons = (call: FakeCall) => ((call.args.blocks ?? []) as { type: string }[]).some((b) => b.type === 'actions');

async function openModal(user: string, dep: string, ts: string) {
  const before = stack.slack.ok('views.open').length;
  const res = await sendSigned(stack.base, buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, user, { ts }));
  expect(res.status).toBe(200);
  expect(res.ms).toBeLessThan(3000);
  const call = await stack.slack.waitFor(() => stack.slack.ok('views.open').filter((c) => (c.args.view as { private_metadata?: string }).private_metadata?.includes(dep))[before] ?? stack.slack.ok('views.open').slice(before).find((c) => JSON.stringify(c.args).includes(dep)), 10_000, 'views.open');
  const index = stack.slack.ok('views.open').indexOf(call);
  return { id: `V${String(index + 1).padStart(9, '0')}`, view: call.args.view as { private_metadata: string; blocks: unknown[] } };
}

describe('bounce spike → alert → cancel in Slack', () => {
  it('I1 I5: tells the whole story once, exactly: two responders submit at once, then a late submit after the cancel', async () => {
    // Two batches an hour apart; the first one's recipients' server rejects every fifth (550).
    const lines = ['email,first_name', ...Array.from({ length: 100 }, (_, i) => (i < 50 && i % 5 === 0 ? `gone${i}@old-list.invalid,G${i}` : `reader${i}@example.com,R${i}`))];
    const { deploymentIds, campaignId } = await createCampaignOrThrow(stack.db, { name: 'Spring Sale', csv: csv(lines), batches: 2, batchIntervalMs: 3_600_000 });
    const dep = deploymentIds[0]!;
    await stack.db.sql`update campaigns set locked_by = 'U0EDITOR01', locked_at = now() where id = ${campaignId}`;

    // Bounce spike → the monitor opens one alert → one alert message.
    const alertId = (await waitFor(async () => (await stack.db.sql`select id from alerts where deployment_id = ${dep}`)[0]?.id as string | undefined, { what: 'the alert', timeoutMs: 20_000 }))!;
    const ts = (await waitFor(async () => (await stack.db.sql`select slack_ts from alerts where id = ${alertId}`)[0]!.slack_ts as string | null, { what: 'the alert post' })) as string;
    expect((await stack.db.sql`select metric, severity from alerts where deployment_id = ${dep}`)).toEqual([{ metric: 'bounce', severity: 'critical' }]);
    await waitFor(async () => (await stack.db.sql`select status from batches where deployment_id = ${dep} and position = 1`)[0]!.status === 'completed', { what: 'the first batch' });
    const posts = stack.slack.ok('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.args.channel).toBe(CHANNEL);
    expect(hasButtons(posts[0]!)).toBe(true);

    // An outsider (another workspace) clicks Cancel: refused, explained to them only, audited, nothing changes.
    const outsider = await sendSigned(stack.base, buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, 'U0MALLORY1', { team: 'T0OUTSIDE1', ts }));
    expect(outsider.status).toBe(200);
    const refusal = await stack.slack.waitFor(() => stack.slack.ok('chat.postEphemeral').find((c) => c.args.user === 'U0MALLORY1'));
    expect(String(refusal.args.text)).toMatch(/own workspace/);
    // And a member of our workspace with no role.
    await sendSigned(stack.base, buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, 'U0NOBODY01', { ts }));
    const noRole = await stack.slack.waitFor(() => stack.slack.ok('chat.postEphemeral').find((c) => c.args.user === 'U0NOBODY01'));
    expect(String(noRole.args.text)).toMatch(/no access/);
    expect(stack.slack.ok('views.open')).toHaveLength(0);
    expect((await stack.db.sql`select status from deployments where id = ${dep}`)[0]!.status).toBe('sending');
    expect(await stack.db.sql`select actor, actor_team, outcome from audit_log where action = 'slack.cancel' order by id`).toEqual([
      { actor: 'U0MALLORY1', actor_team: 'T0OUTSIDE1', outcome: 'refused' },
      { actor: 'U0NOBODY01', actor_team: 'T0TEAM0001', outcome: 'refused' },
    ]);

    // Three responders open the modal; it says what will stop and that it cannot be undone.
    const alice = await openModal(ALICE, dep, ts);
    const bob = await openModal(BOB, dep, ts);
    const carol = await openModal(CAROL, dep, ts);
    const modal = JSON.stringify(alice.view.blocks);
    expect(modal).toContain('This cannot be undone; the campaign cannot be restarted');
    expect(modal).toContain('*Will never be sent:* 50');
    expect(modal).toContain('*Sent so far:* 50');
    expect(modal).toContain('*In flight (cannot be recalled):* 0');
    expect(modal).toContain('Edit lock');
    expect(JSON.parse(alice.view.private_metadata)).toMatchObject({ target: dep, channel: CHANNEL, ts });

    // Alice and Bob submit at once: exactly one cancel; the loser is told who won, inline.
    const [a, b] = await Promise.all([
      sendSigned(stack.base, viewSubmission({ id: alice.id, privateMetadata: alice.view.private_metadata, reason: 'Bounce spike <!channel>' }, ALICE)),
      sendSigned(stack.base, viewSubmission({ id: bob.id, privateMetadata: bob.view.private_metadata, reason: null }, BOB)),
    ]);
    for (const r of [a, b]) {
      expect(r.status).toBe(200);
      expect(r.ms).toBeLessThan(3000);
    }
    const [winner] = await stack.db.sql<{ cancelled_by: string; status: string }[]>`select cancelled_by, status from deployments where id = ${dep}`;
    expect(winner!.status).toBe('cancelled');
    const [won, lost] = winner!.cancelled_by === ALICE ? [a, b] : [b, a];
    expect(won.text).toBe('');
    expect(lost.json).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringContaining(`already cancelled by ${winner!.cancelled_by}`) } });
    expect(await stack.db.sql`select count(*)::int as n from audit_log where action = 'cancel' and outcome = 'ok'`).toEqual([{ n: 1 }]);

    // The alert is edited in place: buttons gone, who and when; then the two thread replies, in order.
    const edit = await stack.slack.waitFor(() => stack.slack.ok('chat.update').find((c) => c.args.ts === ts && blocksOf(c).includes('*Cancelled*')), 10_000, 'the alert edit');
    expect(hasButtons(edit)).toBe(false);
    expect(blocksOf(edit)).toContain(`by <@${winner!.cancelled_by}> at <!date^`);
    const replies = await stack.slack.waitFor(() => {
      const r = stack.slack.ok('chat.postMessage').filter((c) => c.args.thread_ts === ts);
      return r.length >= 2 && r;
    }, 10_000, 'two thread replies');
    expect(String(replies[0]!.args.text)).toContain(`Cancelled ${dep}: 50 already sent, 0 in flight (cannot be recalled), 50 will never be sent. This cannot be undone; the campaign cannot be restarted.`);
    expect(String(replies[0]!.args.text)).toContain('The edit lock held by U0EDITOR01 was overridden');
    expect(String(replies[0]!.args.text)).not.toContain('<!channel>');
    expect(String(replies[1]!.args.text)).toContain('Final counts');
    expect(String(replies[1]!.args.text)).toContain('50 of 100 were never sent');
    expect(edit.at).toBeLessThanOrEqual(replies[0]!.at);
    // Nothing doubled: one post of the alert, one edit for the cancel, two replies.
    await new Promise((r) => setTimeout(r, 500));
    expect(stack.slack.ok('chat.postMessage')).toHaveLength(3);
    expect(stack.slack.ok('chat.update').filter((c) => c.args.ts === ts)).toHaveLength(1);

    // A late submit (Carol's modal, opened before the cancel): error inline, nothing changes.
    const late = await sendSigned(stack.base, viewSubmission({ id: carol.id, privateMetadata: carol.view.private_metadata, reason: 'me too' }, CAROL));
    expect(late.json).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringContaining('already cancelled') } });
    expect(await stack.db.sql`select count(*)::int as n from audit_log where action = 'cancel' and outcome = 'ok'`).toEqual([{ n: 1 }]);
    expect((await stack.db.sql`select cancelled_by from deployments where id = ${dep}`)[0]!.cancelled_by).toBe(winner!.cancelled_by);

    // A stale button (a client that still shows the old message): explained; no second edit is needed.
    await sendSigned(stack.base, buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, CAROL, { ts }));
    const told = await stack.slack.waitFor(() => stack.slack.ok('chat.postEphemeral').find((c) => c.args.user === CAROL));
    expect(String(told.args.text)).toMatch(/already cancelled by <@U0/);
    await new Promise((r) => setTimeout(r, 300));
    expect(stack.slack.ok('chat.update').filter((c) => c.args.ts === ts)).toHaveLength(1);
  });

  it('I3 I4: a stale Cancel button on a days-old alert of a cancelled deployment: the state check explains it, and the message loses its buttons', async () => {
    const { deploymentIds } = await createCampaignOrThrow(stack.db, { name: 'Old one', csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) });
    const dep = deploymentIds[0]!;
    const alertId = await openAlertForTest(stack.db, dep);
    stack.app.notifier!.kick();
    const ts = (await waitFor(async () => (await stack.db.sql`select slack_ts from alerts where id = ${alertId}`)[0]!.slack_ts as string | null, { what: 'the alert post' })) as string;
    // Resolved two days ago: a cancel does not edit it any more.
    await stack.db.sql`update alerts set state = 'resolved', opened_at = now() - interval '3 days', resolved_at = now() - interval '2 days' where id = ${alertId}`;
    expect(await stack.app.services.control.cancel({ target: dep, actor: ALICE })).toMatchObject({ outcome: 'cancelled' });
    const updatesBefore = stack.slack.ok('chat.update').filter((c) => c.args.ts === ts).length;
    expect(updatesBefore).toBe(0);
    await sendSigned(stack.base, buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, BOB, { ts }));
    const told = await stack.slack.waitFor(() => stack.slack.ok('chat.postEphemeral').find((c) => c.args.user === BOB && String(c.args.text).includes(dep)));
    expect(String(told.args.text)).toMatch(/already cancelled by <@U0ALICE001>/);
    const refreshed = await stack.slack.waitFor(() => stack.slack.ok('chat.update').find((c) => c.args.ts === ts), 10_000, 'the stale message edit');
    expect(hasButtons(refreshed)).toBe(false);
    expect(blocksOf(refreshed)).toContain('*Cancelled*');
  });

  it('I3: a deployment that completes edits its alert (no buttons); a stale Pause and a Cancel on it are explained, with the counts', async () => {
    const { deploymentIds } = await createCampaignOrThrow(stack.db, { name: 'Quick one', csv: audienceCsv(5), sendAt: new Date(Date.now() + 2_000) });
    const dep = deploymentIds[0]!;
    const alertId = await openAlertForTest(stack.db, dep);
    stack.app.notifier!.kick();
    const ts = (await waitFor(async () => (await stack.db.sql`select slack_ts from alerts where id = ${alertId}`)[0]!.slack_ts as string | null, { what: 'the alert post' })) as string;
    await waitFor(async () => (await stack.db.sql`select status from deployments where id = ${dep}`)[0]!.status === 'completed', { what: 'completion', timeoutMs: 30_000 });
    const edit = await stack.slack.waitFor(() => stack.slack.ok('chat.update').find((c) => c.args.ts === ts && blocksOf(c).includes('*Completed*')), 10_000, 'the completion edit');
    expect(hasButtons(edit)).toBe(false);

    const before = stack.slack.ok('chat.update').filter((c) => c.args.ts === ts).length;
    await sendSigned(stack.base, buttonClick({ actionId: 'pause_deployment', value: `v1:${dep}` }, ALICE, { ts }));
    const told = await stack.slack.waitFor(() => stack.slack.ok('chat.postEphemeral').filter((c) => c.args.user === ALICE).find((c) => String(c.args.text).includes(dep)));
    expect(String(told.args.text)).toMatch(/completed/);
    // The completion already edited the message: no second edit.
    await new Promise((r) => setTimeout(r, 300));
    expect(stack.slack.ok('chat.update').filter((c) => c.args.ts === ts)).toHaveLength(before);
    // Cancel on it: sent is final, told with the counts.
    await sendSigned(stack.base, buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, BOB, { ts }));
    const final = await stack.slack.waitFor(() => stack.slack.ok('chat.postEphemeral').find((c) => c.args.user === BOB && String(c.args.text).includes('already completed')));
    expect(String(final.args.text)).toContain('5 sent');
  });

  it('Slack answering 429 on chat.update and 500 on chat.postMessage: the edit and both replies arrive later, exactly once', async () => {
    const { deploymentIds } = await createCampaignOrThrow(stack.db, { name: 'Flaky Slack', csv: audienceCsv(7), sendAt: new Date(Date.now() + 3_600_000) });
    const dep = deploymentIds[0]!;
    const alertId = await openAlertForTest(stack.db, dep);
    stack.app.notifier!.kick();
    const ts = (await waitFor(async () => (await stack.db.sql`select slack_ts from alerts where id = ${alertId}`)[0]!.slack_ts as string | null, { what: 'the alert post' })) as string;
    stack.slack.fail('chat.update', { status: 429, retryAfter: 1 });
    stack.slack.fail('chat.postMessage', { status: 500 });
    const modal = await openModal(ALICE, dep, ts);
    const res = await sendSigned(stack.base, viewSubmission({ id: modal.id, privateMetadata: modal.view.private_metadata }, ALICE));
    expect(res.text).toBe('');
    const replies = await stack.slack.waitFor(() => {
      const r = stack.slack.ok('chat.postMessage').filter((c) => c.args.thread_ts === ts);
      return r.length >= 2 && r;
    }, 20_000, 'two thread replies after the failures');
    const updates = stack.slack.calls.filter((c) => c.method === 'chat.update' && c.args.ts === ts);
    expect(updates.map((c) => c.status)).toEqual([429, 200]);
    expect(updates[1]!.at - updates[0]!.at).toBeGreaterThanOrEqual(950);
    expect(stack.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts === ts).map((c) => c.status)).toEqual([500, 200, 200]);
    expect(String(replies[0]!.args.text)).toContain(`Cancelled ${dep}`);
    expect(String(replies[1]!.args.text)).toContain('Final counts');
    await new Promise((r) => setTimeout(r, 500));
    expect(stack.slack.ok('chat.postMessage').filter((c) => c.args.thread_ts === ts)).toHaveLength(2);
    expect(await stack.db.sql`select count(*)::int as n from slack_outbox where status not in ('delivered', 'superseded') and alert_id = ${alertId}`).toEqual([{ n: 0 }]);
  });
});
