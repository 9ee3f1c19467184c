import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../../src/domain/on-call.js';
import { openAlertsOnCall } from '../../../src/db/queries/on-call.js';
import { enqueuePagerTrigger } from '../../../src/db/queries/pager-outbox.js';
import type { StopAnnouncer } from '../../../src/services/ports.js';
import { createAcknowledgementService } from '../../../src/services/alerts/acknowledgement.js';
import { createAlertMonitor, policyFromConfig } from '../../../src/services/alerts/monitor.js';
import { createControlService } from '../../../src/services/control.js';
import { createPauseResume } from '../../../src/services/sending/pause-resume.js';
import { createNotifier } from '../../../src/slack/notifier.js';
import { createLogWriter } from '../../../src/slack/writer.js';
import { loadConfig } from '../../../src/config.js';
import { openAlertForTest } from '../../support/alerts.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { testLogger } from '../../support/sending.js';

/**
 * The on-call loop against the real database: who may acknowledge and what it writes (audit,
 * message edit, the pagers' acknowledge where they were triggered); a responder's pause, resume
 * or cancel acknowledges while Campaign Guard's own auto-pause does not; the re-announcement with
 * Slack off (the log shows the thread reply, the pager's trigger is queued), never for an ended
 * deployment's alert, and never twice.
 */
let db: TestDatabase;
const announcer: StopAnnouncer = { announce: async () => undefined };
beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`insert into operators (user_id, role, granted_by) values ('U0ALICE001', 'responder', 'test'), ('U0VIEWER01', 'viewer', 'test')`;
});
afterAll(async () => {
  await db.drop();
});

const later = () => createCampaignOrThrow(db, { csv: audienceCsv(20), sendAt: new Date(Date.now() + 3_600_000) });
const alertRow = async (id: string) =>
  (await db.sql<{ acknowledged_by: string | null; reannounced_at: string | null; snoozed_until: string | null }[]>`select acknowledged_by, reannounced_at, snoozed_until from alerts where id = ${id}`)[0]!;
const outbox = (alertId: string) => db.sql<{ kind: string; change: string | null; type: string }[]>`select kind, payload->>'change' as change, payload->>'type' as type from slack_outbox where alert_id = ${alertId} order by id`;

describe('acknowledging an alert', () => {
  it('a viewer is refused (audited, nothing changes); a responder acknowledges every open alert of a deployment, once, and the pager hears it where it was paged', async () => {
    const { deploymentIds } = await later();
    const dep = deploymentIds[0]!;
    const bounce = await openAlertForTest(db, dep);
    const error = await openAlertForTest(db, dep, { metric: 'error' });
    await enqueuePagerTrigger(db.sql, ['pagerduty'], [bounce]);
    const service = createAcknowledgementService({ database: db });

    expect(await service.acknowledge(dep, 'U0VIEWER01')).toMatchObject({ ok: false, code: 'not_permitted', reason: expect.stringContaining('only responders and admins') });
    expect(await db.sql`select outcome from audit_log where actor = 'U0VIEWER01' and action = 'alert.acknowledge'`).toEqual([{ outcome: 'refused' }]);
    expect((await alertRow(bounce)).acknowledged_by).toBeNull();

    const done = await service.acknowledge(dep, 'U0ALICE001');
    expect(done.ok && [...done.value.alertIds].sort()).toEqual([bounce, error].sort());
    for (const id of [bounce, error]) {
      expect((await alertRow(id)).acknowledged_by).toBe('U0ALICE001');
      expect((await outbox(id)).at(-1)).toEqual({ kind: 'update', change: 'acknowledged', type: 'alert' });
    }
    expect(await db.sql`select alert_id, action from pager_outbox order by id`).toEqual([{ alert_id: bounce, action: 'trigger' }, { alert_id: bounce, action: 'acknowledge' }]);

    const again = await service.acknowledge(bounce, 'U0ALICE001');
    expect(again).toMatchObject({ ok: false, code: 'already_acknowledged', by: 'U0ALICE001' });
    expect(await db.sql`select count(*)::int as n from audit_log where action = 'alert.acknowledge' and outcome = 'ok'`).toEqual([{ n: 2 }]);
    expect(await service.acknowledge('dep_0000000000', 'U0ALICE001')).toMatchObject({ ok: false, code: 'not_open' });
    expect(await service.acknowledge('cmp_0000000000', 'U0ALICE001')).toMatchObject({ ok: false, code: 'not_found' });
  });

  it('a critical or resolved alert cannot be snoozed', async () => {
    const { deploymentIds } = await later();
    const critical = await openAlertForTest(db, deploymentIds[0]!, { severity: 'critical' });
    const service = createAcknowledgementService({ database: db });
    expect(await service.snooze(critical, '2h', 'U0ALICE001')).toMatchObject({ ok: false, code: 'critical' });
    await db.sql`update alerts set state = 'resolved', resolved_at = now() where id = ${critical}`;
    expect(await service.snooze(critical, '2h', 'U0ALICE001')).toMatchObject({ ok: false, code: 'not_open' });
    expect((await alertRow(critical)).snoozed_until).toBeNull();
  });
});

describe('who is on the open alerts (App Home)', () => {
  it("lists live deployments' open alerts with who is on them, critical first; an ended deployment's only while recent", async () => {
    const live = await openAlertForTest(db, (await later()).deploymentIds[0]!, { severity: 'critical' });
    const endedDep = (await later()).deploymentIds[0]!;
    const recentEnded = await openAlertForTest(db, endedDep);
    const staleDep = (await later()).deploymentIds[0]!;
    const stale = await openAlertForTest(db, staleDep);
    await db.sql`update deployments set status = 'completed', completed_at = now() where id in ${db.sql([endedDep, staleDep])}`;
    await db.sql`update alerts set updated_at = now() - interval '25 hours' where id = ${stale}`;
    await createAcknowledgementService({ database: db }).acknowledge(live, 'U0ALICE001');
    const listed = await openAlertsOnCall(db.sql, 1000);
    const ids = listed.map((a) => a.id);
    expect(ids).toContain(live);
    expect(ids).toContain(recentEnded);
    expect(ids).not.toContain(stale);
    expect(listed.find((a) => a.id === live)).toMatchObject({ severity: 'critical', acknowledged_by: 'U0ALICE001' });
    expect(ids.indexOf(live)).toBeLessThan(ids.indexOf(recentEnded));
  });
});

describe('acting on a send acknowledges its alerts', () => {
  it("a responder's pause, resume and cancel do; Campaign Guard's own auto-pause does not", async () => {
    const pauseResume = createPauseResume({ database: db, announcer });
    const control = createControlService({ database: db, announcer, pauseResume, logger: testLogger });

    const auto = (await later()).deploymentIds[0]!;
    const autoAlert = await openAlertForTest(db, auto);
    expect((await pauseResume.pause({ deploymentId: auto }, SYSTEM_ACTOR)).ok).toBe(true);
    expect((await alertRow(autoAlert)).acknowledged_by).toBeNull();
    expect(await control.resume({ target: auto, actor: 'U0ALICE001' })).toMatchObject({ outcome: 'resumed' });
    expect((await alertRow(autoAlert)).acknowledged_by).toBe('U0ALICE001');

    const paused = (await later()).deploymentIds[0]!;
    const pausedAlert = await openAlertForTest(db, paused);
    expect(await control.pause({ target: paused, actor: 'U0ALICE001' })).toMatchObject({ outcome: 'paused' });
    expect((await alertRow(pausedAlert)).acknowledged_by).toBe('U0ALICE001');

    const cancelled = (await later()).deploymentIds[0]!;
    const cancelledAlert = await openAlertForTest(db, cancelled);
    expect(await control.cancel({ target: cancelled, actor: 'U0ALICE001' })).toMatchObject({ outcome: 'cancelled' });
    expect((await alertRow(cancelledAlert)).acknowledged_by).toBe('U0ALICE001');
    await control.idle();
  });
});

describe('the alert message as delivered', () => {
  it("draws the rate from the monitor's snapshots against the campaign's thresholds, fills in the links, and mentions by severity", async () => {
    const { deploymentIds, campaignId } = await later();
    const dep = deploymentIds[0]!;
    await db.sql`update campaigns set alert_policy = ${JSON.stringify({ thresholds: { bounce: { warn: 0.03, critical: 0.08 } } })}::jsonb where id = ${campaignId}`;
    // 100 answers every 30 s for 5 minutes; bounces climbing from 0 to 9 per 100.
    for (let i = 0; i <= 10; i++) {
      const answered = i * 100;
      const bounced = Array.from({ length: i }, (_, k) => k).reduce((sum, k) => sum + k, 0);
      await db.sql`insert into deployment_samples (deployment_id, taken_at, attempted, sent, bounced, errors, complaints)
        values (${dep}, now() - make_interval(secs => ${300 - i * 30}), ${answered}, ${answered - bounced}, ${bounced}, 0, 0)`;
    }
    const warning = await openAlertForTest(db, dep, { severity: 'warning' });
    const posts: { text: string; blocks?: unknown[] }[] = [];
    const writer = { post: async (m: { text: string; blocks?: unknown[] }) => (posts.push(m), { channel: 'C1', ts: `1.${posts.length}` }), update: async () => undefined };
    const settings = {
      onCall: { mention: '<!subteam^S0ONCALL01>', mentionMinSeverity: 'critical' as const, links: { runbook: 'https://wiki.example.com/r/{metric}?d={deployment_id}', dashboard: undefined } },
      policy: policyFromConfig(loadConfig({}).alerts),
      windowSeconds: 300,
    };
    const notifier = createNotifier({ sql: db.sql, writer, alertChannel: 'C1', alertMessages: settings, logger: testLogger, pacingMs: 0 });
    while ((await notifier.runOnce()) > 0);
    const post = posts.find((p) => JSON.stringify(p.blocks).includes(warning))!;
    const all = JSON.stringify(post.blocks);
    expect(all).toMatch(/`[▁▂▃▄▅▆▇█·]{24}`/);
    expect(all).toContain('warn 3.0% · crit 8.0% · now 9.0%');
    expect(all).toContain(`https://wiki.example.com/r/bounce?d=${dep}`);
    // A warning, with mentions for critical alerts only: no mention.
    expect(post.text).not.toContain('subteam');
  });
});

describe('re-announcing an alert nobody acknowledged', () => {
  it('with Slack off: the log shows the thread reply with the mention, the pager trigger is queued; once; never for an ended deployment', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const monitor = createAlertMonitor({
      database: db,
      policy: policyFromConfig(loadConfig({}).alerts),
      windowSeconds: 300,
      onCall: { mention: '<!subteam^S0ONCALL01>', mentionMinSeverity: 'warning', escalateAfterSeconds: 60, pagerDestinations: ['pagerduty', 'webhook'] },
      logger: testLogger,
    });
    const notifier = createNotifier({ sql: db.sql, writer: createLogWriter(logger), alertChannel: 'log', logger: testLogger, pacingMs: 0 });

    const live = (await later()).deploymentIds[0]!;
    const liveAlert = await openAlertForTest(db, live);
    const ended = (await later()).deploymentIds[0]!;
    const endedAlert = await openAlertForTest(db, ended);
    const fresh = await openAlertForTest(db, (await later()).deploymentIds[0]!);
    await db.sql`update deployments set status = 'completed', completed_at = now() where id = ${ended}`;
    await db.sql`update alerts set opened_at = now() - interval '61 seconds' where id in ${db.sql([liveAlert, endedAlert])}`;
    while ((await notifier.runOnce()) > 0);

    await Promise.all([monitor.tick(), monitor.tick()]);
    await monitor.tick();
    while ((await notifier.runOnce()) > 0);

    expect((await alertRow(liveAlert)).reannounced_at).not.toBeNull();
    expect((await alertRow(endedAlert)).reannounced_at).toBeNull();
    expect((await alertRow(fresh)).reannounced_at).toBeNull();
    expect(await db.sql`select alert_id, destination, action from pager_outbox where alert_id in ${db.sql([liveAlert, endedAlert, fresh])} order by id`).toEqual([
      { alert_id: liveAlert, destination: 'pagerduty', action: 'trigger' },
      { alert_id: liveAlert, destination: 'webhook', action: 'trigger' },
    ]);
    const replies = lines.map((l) => JSON.parse(l) as { slack?: string; threadTs?: string; broadcast?: boolean; text?: string }).filter((l) => l.slack === 'post' && l.threadTs && l.text?.includes('Nobody has acknowledged'));
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toContain('<!subteam^S0ONCALL01> :mega: Nobody has acknowledged this alert in 1 min');
    expect(replies[0]!.broadcast).toBe(true);
    expect((await outbox(liveAlert)).map((r) => r.type)).toEqual(['alert', 'on_call_reply', 'alert']);
  });
});
