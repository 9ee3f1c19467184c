import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../../src/app/serve.js';
import { createCampaignOrThrow, csv, audienceCsv } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { testConfig, testLogger, waitFor } from '../../support/sending.js';

/** `GET /metrics` after a send with bounces, an alert and a cancel: the values match what happened. */
let db: TestDatabase;
let app: RunningApp;
beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp(testConfig(db, { PORT: '0', HOST: '127.0.0.1', ALERT_SUSTAIN_SECONDS: '0', ALERT_MIN_SAMPLE: '50' }), testLogger, { role: 'all' });
});
afterAll(async () => {
  await app.stop();
  await db.drop();
});

const scrape = async () => {
  const response = await fetch(`${app.url!.replace('0.0.0.0', '127.0.0.1')}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
};
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('GET /metrics', () => {
  it('counts hand-offs by outcome, alerts by severity, cancels in the latency histogram, and reads queue depths and outbox lag', async () => {
    // The capture sink refuses .invalid domains with 550: 20 of 200 bounce.
    const lines = ['email', ...Array.from({ length: 200 }, (_, i) => (i % 10 === 0 ? `gone${i}@old.invalid` : `reader${i}@example.com`))];
    const sent = (await createCampaignOrThrow(db, { csv: csv(lines) })).deploymentIds[0]!;
    await waitFor(async () => (await db.sql`select status from deployments where id = ${sent}`)[0]!.status === 'completed', { what: 'the send', timeoutMs: 30_000 });
    await waitFor(async () => (await db.sql`select 1 from alerts where deployment_id = ${sent}`).length === 1, { what: 'the alert' });

    await app.services.access.grant('U0ONCALL01', 'responder', 'test');
    const later = (await createCampaignOrThrow(db, { csv: audienceCsv(30), sendAt: new Date(Date.now() + 3_600_000) })).deploymentIds[0]!;
    expect((await app.services.control.cancel({ target: later, actor: 'U0ONCALL01' })).outcome).toBe('cancelled');

    const text = await scrape();
    expect(value(text, 'campaign_guard_handoffs_total{outcome="sent"}')).toBe(180);
    expect(value(text, 'campaign_guard_handoffs_total{outcome="bounced"}')).toBe(20);
    expect(value(text, 'campaign_guard_post_stop_handoffs_total')).toBe(0);
    expect(value(text, 'campaign_guard_alerts_total{metric="bounce",severity="critical",change="opened"}')).toBe(1);
    expect(value(text, 'campaign_guard_cancel_seconds_count{outcome="cancelled"}')).toBe(1);
    expect(value(text, 'campaign_guard_cancel_seconds_bucket{le="1",outcome="cancelled"}')).toBe(1);
    expect(value(text, 'campaign_guard_queue_jobs{queue="send",state="waiting"}')).toBe(0);
    expect(value(text, 'campaign_guard_slack_outbox_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(text).toContain('campaign_guard_process_cpu_seconds_total');
    // The alert is still open (a completed send's rate does not fall): one critical bounce alert, none of the rest.
    expect((await db.sql`select metric, severity from alerts where state = 'open'`).map((r) => `${r.metric}/${r.severity}`)).toEqual(['bounce/critical']);
    expect(value(text, 'campaign_guard_alerts_open{metric="bounce",severity="critical"}')).toBe(1);
    for (const [metric, severity] of [['bounce', 'warning'], ['error', 'critical'], ['error', 'warning'], ['complaint', 'critical'], ['complaint', 'warning']]) {
      expect(value(text, `campaign_guard_alerts_open{metric="${metric}",severity="${severity}"}`)).toBe(0);
    }
  }, 60_000);
});
