import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertMonitor, policyFromConfig } from '../../src/services/alerts/monitor.js';
import { openAlertForTest } from '../support/alerts.js';
import { audienceCsv, createCampaignOrThrow } from '../support/builders.js';
import { ROUTING_KEY, startFakePagerDuty, type FakePagerDuty } from '../support/fake-pagerduty.js';
import { testLogger, waitFor } from '../support/sending.js';
import { buttonClick, CHANNEL, commandBody, selectPick, sendSigned, viewSubmission, type FakeCall } from '../support/slack.js';
import { startSlackStack, type SlackStack } from './harness.js';

/**
 * Issue 24, Done-when 1, end to end: signed requests to the running app, the fake Slack Web API.
 * Acknowledge (audited, shown, the re-announcement stopped, a second responder can still cancel);
 * an unacknowledged critical alert re-announced in its thread with the mention after
 * ALERT_ESCALATE_AFTER_SECONDS, exactly once with a second monitor ticking alongside; a snooze
 * silences a warning until a turn to critical breaks it and alerts again with the mention. The
 * re-announcement pages a local fake of PagerDuty's Events API v2; the Slack acknowledge and the
 * cancel acknowledge and resolve it there.
 */
const ESCALATE_AFTER = 3;
const MENTION = '<!subteam^S0ONCALL01>';
const ALICE = 'U0ALICE001';
const BOB = 'U0BOB00001';
let stack: SlackStack;
let pagerDuty: FakePagerDuty;

beforeAll(async () => {
  pagerDuty = await startFakePagerDuty();
  stack = await startSlackStack({
    ALERT_SUSTAIN_SECONDS: '0',
    ALERT_MIN_SAMPLE: '20',
    BOUNCE_RATE_WARN: '5%',
    BOUNCE_RATE_CRITICAL: '10%',
    ALERT_ESCALATE_AFTER_SECONDS: String(ESCALATE_AFTER),
    SLACK_ALERT_MENTION: 'S0ONCALL01',
    ALERT_RUNBOOK_URL: 'https://wiki.example.com/runbooks/bounces?deployment={deployment_id}',
    ALERT_DASHBOARD_URL: 'https://grafana.example.com/d/sends?var-deployment={deployment_id}&var-alert={alert_id}',
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: pagerDuty.url,
  });
  for (const user of [ALICE, BOB]) await stack.app.services.access.grant(user, 'responder', 'test');
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await pagerDuty?.close();
});

const blocksOf = (call: FakeCall) => JSON.stringify(call.args.blocks ?? []);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const threadReplies = (ts: string) => stack.slack.ok('chat.postMessage').filter((c) => c.args.thread_ts === ts);

/** A scheduled deployment (nothing sends for an hour) with an open alert, posted; its message ts. */
async function postedAlert(name: string, severity: 'warning' | 'critical') {
  const { deploymentIds } = await createCampaignOrThrow(stack.db, { name, csv: audienceCsv(100), sendAt: new Date(Date.now() + 3_600_000) });
  const dep = deploymentIds[0]!;
  const alertId = await openAlertForTest(stack.db, dep, { severity, threshold: severity === 'critical' ? 0.1 : 0.05 });
  stack.app.notifier!.kick();
  const ts = (await waitFor(async () => (await stack.db.sql`select slack_ts from alerts where id = ${alertId}`)[0]!.slack_ts as string | null, { what: 'the alert post' })) as string;
  const post = stack.slack.ok('chat.postMessage').find((c) => c.args.ts === undefined && blocksOf(c).includes(alertId))!;
  return { dep, alertId, ts, post };
}

let answers = 0;
/** A /campaign command's answer: in the acknowledgement, or (a slow database) through its response_url. */
async function command(text: string, user: string) {
  const name = `on-call-${++answers}`;
  const res = await sendSigned(stack.base, commandBody(text, user, { responseUrl: stack.slack.responseUrl(name) }));
  expect(res.status).toBe(200);
  const acked = res.json as { response_type?: string; text?: string } | undefined;
  if (acked?.text) return acked;
  return (await stack.slack.waitFor(() => stack.slack.responses.find((r) => r.path.endsWith(`/${name}`)), 5000, 'the answer through response_url')).body as { response_type?: string; text?: string };
}

/** Clicks Cancel on the alert message and confirms it in the modal. */
async function cancelAs(user: string, dep: string, ts: string) {
  const before = stack.slack.ok('views.open').length;
  await sendSigned(stack.base, buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, user, { ts }));
  const modal = await stack.slack.waitFor(() => stack.slack.ok('views.open')[before], 10_000, 'the cancel modal');
  const id = `V${String(before + 1).padStart(9, '0')}`;
  const submitted = await sendSigned(stack.base, viewSubmission({ id, privateMetadata: (modal.args.view as { private_metadata: string }).private_metadata }, user));
  expect(submitted.text).toBe('');
  expect(await stack.db.sql`select status, cancelled_by from deployments where id = ${dep}`).toEqual([{ status: 'cancelled', cancelled_by: user }]);
}

async function ephemeralFor(user: string, includes: string) {
  return stack.slack.waitFor(() => stack.slack.ok('chat.postEphemeral').find((c) => c.args.user === user && String(c.args.text).includes(includes)), 10_000, `the answer to ${user}`);
}

describe('the on-call loop in Slack', () => {
  it('Acknowledge: audited, shown on the alert, stops the re-announcement; a second responder is told who was first and can still cancel', async () => {
    const { dep, alertId, ts, post } = await postedAlert('Acked', 'warning');
    // The open alert mentions the on-call group (its text notifies; a section shows it), with its links and buttons.
    expect(String(post.args.text)).toContain(MENTION);
    expect(blocksOf(post)).toContain('acknowledge_alert');
    expect(blocksOf(post)).toContain(`https://wiki.example.com/runbooks/bounces?deployment=${dep}`);
    // Its clock restarts now, so the click below surely lands within ALERT_ESCALATE_AFTER_SECONDS.
    await stack.db.sql`update alerts set opened_at = now() where id = ${alertId}`;

    const res = await sendSigned(stack.base, buttonClick({ actionId: 'acknowledge_alert', value: `v1:${alertId}` }, ALICE, { ts }));
    expect(res.status).toBe(200);
    await ephemeralFor(ALICE, 'You acknowledged');
    expect(await stack.db.sql`select actor, action, target_id, outcome from audit_log where action = 'alert.acknowledge'`).toEqual([{ actor: ALICE, action: 'alert.acknowledge', target_id: alertId, outcome: 'ok' }]);
    const edit = await stack.slack.waitFor(() => stack.slack.ok('chat.update').find((c) => c.args.ts === ts && blocksOf(c).includes('Acknowledged by')), 10_000, 'the edit');
    expect(blocksOf(edit)).toContain(`Acknowledged by <@${ALICE}> at <!date^`);
    expect(blocksOf(edit)).not.toContain('acknowledge_alert');
    expect(blocksOf(edit)).not.toContain(MENTION);
    // Acknowledging locks nothing: Cancel is still on it.
    expect(blocksOf(edit)).toContain('cancel_deployment');

    // Past the escalation time: no re-announcement, nothing paged.
    await sleep((ESCALATE_AFTER + 1.5) * 1000);
    expect(threadReplies(ts)).toHaveLength(0);
    expect((await stack.db.sql`select reannounced_at from alerts where id = ${alertId}`)[0]!.reannounced_at).toBeNull();
    expect(await stack.db.sql`select action from pager_outbox where alert_id = ${alertId}`).toEqual([]);

    // Bob acknowledges too: told who was first; nothing changes.
    await sendSigned(stack.base, buttonClick({ actionId: 'acknowledge_alert', value: `v1:${alertId}` }, BOB, { ts }));
    const second = await ephemeralFor(BOB, 'Already acknowledged');
    expect(String(second.args.text)).toContain(`by <@${ALICE}>`);
    expect(await stack.db.sql`select count(*)::int as n from audit_log where action = 'alert.acknowledge'`).toEqual([{ n: 1 }]);

    // And Bob cancels.
    await cancelAs(BOB, dep, ts);
    expect((await stack.db.sql`select acknowledged_by from alerts where id = ${alertId}`)[0]!.acknowledged_by).toBe(ALICE);
  }, 60_000);

  it('an unacknowledged critical alert is re-announced in its thread with the mention after the set time, once, with a second monitor ticking too; PagerDuty gets trigger, acknowledge and resolve', async () => {
    const { dep, alertId, ts, post } = await postedAlert('Nobody home', 'critical');
    expect(String(post.args.text)).toContain(MENTION);
    // A second process's monitor, on the same database, ticking as fast as it can alongside the app's.
    const second = createAlertMonitor({
      database: stack.db,
      policy: policyFromConfig({ bounceRate: { warn: 0.05, critical: 0.1 }, errorRate: { warn: 0.05, critical: 0.1 }, complaintRate: { warn: 0.001, critical: 0.003 }, minSample: 20, sustainSeconds: 0, autoPauseOnCritical: false }),
      windowSeconds: 300,
      onCall: { mention: MENTION, mentionMinSeverity: 'warning', escalateAfterSeconds: ESCALATE_AFTER, pagerDestinations: ['pagerduty'] },
      logger: testLogger,
    });
    let ticking = true;
    const loop = (async () => {
      while (ticking) {
        await second.tick();
        await sleep(20);
      }
    })();
    try {
      const reply = await stack.slack.waitFor(() => threadReplies(ts)[0], (ESCALATE_AFTER + 10) * 1000, 'the re-announcement');
      expect(String(reply.args.text)).toContain(MENTION);
      expect(String(reply.args.text)).toContain(`Nobody has acknowledged this alert in ${ESCALATE_AFTER} s`);
      expect(String(reply.args.reply_broadcast)).toBe('true');
      const [row] = await stack.db.sql<{ opened_at: Date; reannounced_at: Date }[]>`select opened_at, reannounced_at from alerts where id = ${alertId}`;
      expect(new Date(row!.reannounced_at).getTime() - new Date(row!.opened_at).getTime()).toBeGreaterThanOrEqual(ESCALATE_AFTER * 1000);
      // The message says so, and the pager's trigger is queued, once.
      await stack.slack.waitFor(() => stack.slack.ok('chat.update').find((c) => c.args.ts === ts && blocksOf(c).includes('re-announced at')), 10_000, 'the edit');
      await sleep(2000);
    } finally {
      ticking = false;
      await loop;
    }
    expect(threadReplies(ts)).toHaveLength(1);
    expect(await stack.db.sql`select destination, action from pager_outbox where alert_id = ${alertId}`).toEqual([{ destination: 'pagerduty', action: 'trigger' }]);

    // PagerDuty has the incident: critical, linked to the alert's Slack message.
    const trigger = await waitFor(async () => pagerDuty.accepted.find((e) => e.dedup_key === alertId), { what: 'the PagerDuty trigger' });
    expect(trigger.body).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger', payload: { severity: 'critical' } });
    expect(JSON.stringify(trigger.body.links)).toContain(`/archives/${CHANNEL}/p${ts.replace('.', '')}`);

    // Acknowledging in Slack acknowledges it there; the cancel resolves it. Each once, in order.
    await sendSigned(stack.base, buttonClick({ actionId: 'acknowledge_alert', value: `v1:${alertId}` }, ALICE, { ts }));
    await ephemeralFor(ALICE, alertId);
    await waitFor(async () => pagerDuty.actionsFor(alertId).length === 2, { what: 'the PagerDuty acknowledge' });
    await cancelAs(BOB, dep, ts);
    await waitFor(async () => pagerDuty.actionsFor(alertId).length === 3, { what: 'the PagerDuty resolve' });
    await sleep(1500);
    expect(pagerDuty.actionsFor(alertId)).toEqual(['trigger', 'acknowledge', 'resolve']);
  }, 90_000);

  it('Snooze silences a warning (no mention, no re-announcement) until a turn to critical breaks it and alerts again with the mention', async () => {
    const { dep, alertId, ts } = await postedAlert('Snoozy', 'warning');
    await stack.db.sql`update alerts set opened_at = now() where id = ${alertId}`;
    await sendSigned(stack.base, selectPick({ actionId: 'snooze_alert', value: `v1:${alertId}:2h` }, ALICE, { ts }));
    await ephemeralFor(ALICE, 'Snoozed');
    const [snoozed] = await stack.db.sql<{ snoozed_until: Date; snoozed_by: string }[]>`select snoozed_until, snoozed_by from alerts where id = ${alertId}`;
    expect(snoozed!.snoozed_by).toBe(ALICE);
    expect(Math.abs(new Date(snoozed!.snoozed_until).getTime() - Date.now() - 2 * 3600_000)).toBeLessThan(60_000);
    expect(await stack.db.sql`select actor, outcome, details->>'choice' as choice from audit_log where action = 'alert.snooze'`).toEqual([{ actor: ALICE, outcome: 'ok', choice: '2h' }]);
    const edit = await stack.slack.waitFor(() => stack.slack.ok('chat.update').find((c) => c.args.ts === ts && blocksOf(c).includes('Snoozed by')), 10_000, 'the snooze edit');
    expect(blocksOf(edit)).not.toContain(MENTION);
    expect(String(edit.args.text)).not.toContain(MENTION);

    // Past the escalation time: silence.
    await sleep((ESCALATE_AFTER + 1.5) * 1000);
    expect(threadReplies(ts)).toHaveLength(0);

    // The rate climbs past critical (20 of 100 bounced): the monitor escalates it, ending the snooze.
    await stack.db.sql`update deployments set sent_count = 80, bounced_count = 20 where id = ${dep}`;
    await stack.db.sql`insert into alert_watches (deployment_id, metric, level) values (${dep}, 'bounce', 'warning') on conflict (deployment_id, metric) do update set level = 'warning'`;
    const reply = await stack.slack.waitFor(() => threadReplies(ts)[0], 15_000, 'the critical mention');
    expect(String(reply.args.text)).toContain(MENTION);
    expect(String(reply.args.text)).toContain('now *critical*');
    expect(await stack.db.sql`select severity, snoozed_until from alerts where id = ${alertId}`).toEqual([{ severity: 'critical', snoozed_until: null }]);
    const critical = await stack.slack.waitFor(() => stack.slack.ok('chat.update').find((c) => c.args.ts === ts && blocksOf(c).includes('(critical, threshold')), 10_000, 'the critical edit');
    expect(blocksOf(critical)).not.toContain('snooze_alert');
    expect(blocksOf(critical)).not.toContain('Snoozed by');
    // The escalation restarted the clock: nobody acknowledges, so it is re-announced after the set time.
    const reannounced = await stack.slack.waitFor(() => threadReplies(ts).find((c) => String(c.args.text).includes('Nobody has acknowledged')), (ESCALATE_AFTER + 10) * 1000, 'the re-announcement');
    expect(String(reannounced.args.text)).toContain(MENTION);
    expect(reannounced.args.channel).toBe(CHANNEL);

    // Bob takes it from the keyboard: /campaign ack <deployment id>, answered to him only.
    const answer = await command(`ack ${dep}`, BOB);
    expect(answer.response_type).toBe('ephemeral');
    expect(JSON.stringify(answer)).toContain(`You acknowledged alert \`${alertId}\``);
    expect((await stack.db.sql`select acknowledged_by from alerts where id = ${alertId}`)[0]!.acknowledged_by).toBe(BOB);
    expect(JSON.stringify(await command(`ack ${alertId}`, ALICE))).toContain(`Already acknowledged by <@${BOB}>`);
    expect(JSON.stringify(await command('ack cmp_0000000001', ALICE))).toContain('needs an alert id');
  }, 60_000);
});
