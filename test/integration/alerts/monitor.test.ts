import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueuePagerTrigger } from '../../../src/db/queries/pager-outbox.js';
import type { FeedbackEvent } from '../../../src/domain/feedback.js';
import { loadConfig } from '../../../src/config.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { createAlertMonitor, policyFromConfig, SYSTEM_ACTOR } from '../../../src/services/alerts/monitor.js';
import { createFeedbackIngestor } from '../../../src/services/feedback/ingest.js';
import { createPauseResume } from '../../../src/services/sending/pause-resume.js';
import { createStopAnnouncer } from '../../../src/queue/stop-signal.js';
import { createStatusService } from '../../../src/services/status.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, startWorker, testConfig, testLogger, waitFor } from '../../support/sending.js';

let db: TestDatabase;
let sink: SmtpSink;
beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink({ faultFor: (rcpt) => (rcpt.startsWith('bounce') ? { rejectRcpt: { code: 550 } } : undefined) });
});
afterAll(async () => {
  await sink.close();
  await db.drop();
});

const policy = (env: Record<string, string> = {}) =>
  policyFromConfig(loadConfig({ BOUNCE_RATE_WARN: '5%', BOUNCE_RATE_CRITICAL: '10%', COMPLAINT_RATE_WARN: '1%', COMPLAINT_RATE_CRITICAL: '2%', ALERT_MIN_SAMPLE: '100', ALERT_SUSTAIN_SECONDS: '0', ...env }).alerts);
const monitorWith = (env: Record<string, string> = {}, extra: Partial<Parameters<typeof createAlertMonitor>[0]> = {}) =>
  createAlertMonitor({ database: db, policy: policy(env), windowSeconds: 300, logger: testLogger, ...extra });

/** A completed send of `count` recipients, everyone accepted. */
async function completedSend(count: number): Promise<string> {
  const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url }));
  try {
    const created = await createCampaignOrThrow(db, { csv: audienceCsv(count) });
    const id = created.deploymentIds[0]!;
    await waitFor(async () => (await deploymentRow(db, id)).status === 'completed', { what: 'completion' });
    return id;
  } finally {
    await worker.stop();
  }
}

const feedback = (deploymentId: string, seqs: number[], kind: FeedbackEvent['kind'], provider: FeedbackEvent['provider'] = 'sendgrid') => ({
  events: seqs.map((seq): FeedbackEvent => ({ provider, eventId: `${kind}-${deploymentId}-${seq}`, kind, bounceClass: kind === 'bounce' ? 'hard' : undefined, countsTowardRate: true, deliveryTag: `${deploymentId}.${seq}` })),
  quarantined: [],
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('alert monitor', () => {
  it('late complaints after a send completed still count and open a complaint alert', async () => {
    const id = await completedSend(200);
    const ingestor = createFeedbackIngestor({ database: db, logger: testLogger });
    const monitor = monitorWith();
    expect(await monitor.tick()).toEqual([]);
    await ingestor.ingest(feedback(id, [1, 2, 3], 'complaint'));
    const changes = await monitor.tick();
    expect(changes).toMatchObject([{ deploymentId: id, metric: 'complaint', change: 'opened', severity: 'warning', sample: 200 }]);
    expect(changes[0]!.rate).toBeCloseTo(0.015, 5);
    const report = await createStatusService({ db: db.db }).lookup(id);
    expect(report.ok && report.value.type === 'deployment' && report.value.deployment.rates).toEqual({
      bounce: { rate: 0, count: 0, sample: 200 },
      error: { rate: 0, count: 0, sample: 200 },
      complaint: { rate: 0.015, count: 3, sample: 200 },
    });
    // Same spike, later ticks: nothing new.
    expect(await monitor.tick()).toEqual([]);
    expect((await db.sql`select count(*)::int as n from slack_outbox where alert_id = ${changes[0]!.alertId}`)[0]!.n).toBe(1);
  });

  it('two monitors ticking at once (two worker processes) open one alert, not two', async () => {
    const id = await completedSend(200);
    await createFeedbackIngestor({ database: db, logger: testLogger }).ingest(feedback(id, range(1, 30), 'bounce'));
    const monitors = Array.from({ length: 4 }, () => monitorWith());
    const results = await Promise.all(monitors.flatMap((m) => [m.tick(), m.tick()]));
    const later = await Promise.all(monitors.map((m) => m.tick()));
    const opened = [...results, ...later].flat().filter((c) => c.deploymentId === id);
    expect(opened).toHaveLength(1);
    expect((await db.sql`select count(*)::int as n from alerts where deployment_id = ${id}`)[0]!.n).toBe(1);
  });

  it('a sustain period half-way through survives a change of monitor process', async () => {
    const id = await completedSend(200);
    await createFeedbackIngestor({ database: db, logger: testLogger }).ingest(feedback(id, range(1, 12), 'bounce'));
    expect(await monitorWith({ ALERT_SUSTAIN_SECONDS: '2' }).tick()).toEqual([]);
    const [watch] = await db.sql`select level, candidate from alert_watches where deployment_id = ${id} and metric = 'bounce'`;
    expect(watch).toEqual({ level: 'ok', candidate: 'warning' });
    await new Promise((r) => setTimeout(r, 2100));
    const changes = await monitorWith({ ALERT_SUSTAIN_SECONDS: '2' }).tick();
    expect(changes).toMatchObject([{ deploymentId: id, metric: 'bounce', change: 'opened', severity: 'warning' }]);
  });

  it('a campaign override applies, and lifting its threshold resolves the open alert in place', async () => {
    const id = await completedSend(200);
    await createFeedbackIngestor({ database: db, logger: testLogger }).ingest(feedback(id, range(1, 12), 'bounce'));
    const monitor = monitorWith();
    const opened = (await monitor.tick()).find((c) => c.deploymentId === id);
    expect(opened).toMatchObject({ deploymentId: id, change: 'opened', severity: 'warning' });

    // Paged meanwhile (nobody acknowledged): the resolve reaches the pager too.
    await enqueuePagerTrigger(db.sql, ['pagerduty'], [opened!.alertId]);
    await db.sql`update campaigns set alert_policy = ${JSON.stringify({ thresholds: { bounce: { warn: 0.2, critical: 0.3 } } })}::jsonb
      where id = (select campaign_id from deployments where id = ${id})`;
    const resolved = (await monitor.tick()).find((c) => c.deploymentId === id);
    expect(resolved).toMatchObject({ alertId: opened!.alertId, change: 'resolved' });
    const [alert] = await db.sql`select state, resolved_at from alerts where id = ${opened!.alertId}`;
    expect(alert!.state).toBe('resolved');
    const outbox = await db.sql`select kind, payload from slack_outbox where alert_id = ${opened!.alertId} order by id`;
    expect(outbox.map((o) => `${o.kind}:${o.payload.change}`)).toEqual(['post:opened', 'update:resolved']);
    const pages = await db.sql`select action from pager_outbox where alert_id = ${opened!.alertId} order by id`;
    expect(pages.map((p) => p.action)).toEqual(['trigger', 'resolve']);
  });

  it('an invalid campaign override is ignored with a warning, never fatal', async () => {
    const id = await completedSend(200);
    await db.sql`update campaigns set alert_policy = ${JSON.stringify({ thresholds: { bounce: { warn: 'high' } } })}::jsonb where id = (select campaign_id from deployments where id = ${id})`;
    await createFeedbackIngestor({ database: db, logger: testLogger }).ingest(feedback(id, range(1, 30), 'bounce'));
    const changes = await monitorWith().tick();
    expect(changes.filter((c) => c.deploymentId === id)).toMatchObject([{ change: 'opened', severity: 'critical' }]);
  });

  it('with AUTO_PAUSE_ON_CRITICAL a critical alert pauses the send (reversibly) and says so', async () => {
    const config = testConfig(db, { SMTP_URL: sink.url, SEND_RATE_PER_SECOND: '200' });
    const worker = await startWorker(db, config);
    try {
      const csv = audienceCsv(3000).replace(/user(\d*[05])@example\.com/g, 'bounce$1@example.com');
      const created = await createCampaignOrThrow(db, { csv });
      const id = created.deploymentIds[0]!;
      const announcer = createStopAnnouncer({ redis: undefined, prefix: config.redisPrefix, logger: testLogger });
      const monitor = monitorWith({ AUTO_PAUSE_ON_CRITICAL: 'true' }, { pauseResume: createPauseResume({ database: db, announcer }) });
      const change = await waitFor(async () => (await monitor.tick()).find((c) => c.deploymentId === id), { what: 'a critical alert', everyMs: 100 });
      expect(change).toMatchObject({ metric: 'bounce', severity: 'critical' });
      const row = await waitFor(async () => {
        const d = await deploymentRow(db, id);
        return d.status === 'paused' && d;
      }, { what: 'the pause' });
      expect(row.paused_by).toBe(SYSTEM_ACTOR);
      expect(row.sent_count + row.bounced_count).toBeLessThan(3000);
      const [alert] = await db.sql`select auto_paused from alerts where id = ${change.alertId}`;
      expect(alert!.auto_paused).toMatch(/^Paused automatically by Campaign Guard at .*resume when it is safe/);
      const outbox = await db.sql`select kind, payload from slack_outbox where alert_id = ${change.alertId} and payload->>'change' in ('opened', 'escalated', 'resolved', 'auto_paused') order by id`;
      expect(outbox.map((o) => `${o.kind}:${o.payload.change}`)).toEqual(['post:opened', 'update:auto_paused']);
      const [audit] = await db.sql`select actor, action from audit_log where action = 'pause' and target_id = ${id}`;
      expect(audit).toEqual({ actor: SYSTEM_ACTOR, action: 'pause' });
    } finally {
      await worker.stop();
    }
  });
});
