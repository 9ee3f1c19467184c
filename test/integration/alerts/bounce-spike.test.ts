import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEvery } from '../../../src/lib/periodic.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { createAlertMonitor, policyFromConfig } from '../../../src/services/alerts/monitor.js';
import { createCampaignOrThrow, csv } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, startWorker, testConfig, testLogger, waitFor } from '../../support/sending.js';

let db: TestDatabase;
let sink: SmtpSink;
beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink({ faultFor: (rcpt) => (rcpt.startsWith('bounce') ? { rejectRcpt: { code: 550, message: '5.1.1 no such user' } } : undefined) });
});
afterAll(async () => {
  await sink.close();
  await db.drop();
});

/**
 * 2,000 recipients, 10% of them (201) rejected at RCPT with 550: 5.8% of the first half, 14.3% of the
 * second, so the bounce rate crosses the warning level early and climbs past the critical one.
 */
function audience(): string {
  const lines = ['email,first_name'];
  for (let i = 1; i <= 2000; i++) {
    const bounce = i <= 1000 ? i % 17 === 0 : i % 7 === 0;
    lines.push(bounce ? `bounce${i}@rejecting.example,B${i}` : `user${i}@example.com,U${i}`);
  }
  return csv(lines);
}

describe('a bounce spike during a send', () => {
  it('opens exactly one alert (one outbox row) within 2 s of crossing, escalates the same alert, and opens no second one', async () => {
    const config = testConfig(db, {
      SMTP_URL: sink.url,
      SEND_RATE_PER_SECOND: '400',
      BOUNCE_RATE_WARN: '5%',
      BOUNCE_RATE_CRITICAL: '8%',
      ALERT_MIN_SAMPLE: '100',
      ALERT_SUSTAIN_SECONDS: '0',
    });
    const monitor = createAlertMonitor({ database: db, policy: policyFromConfig(config.alerts), windowSeconds: config.alerts.windowSeconds, logger: testLogger });
    const loop = runEvery(250, 'alert-monitor', monitor.tick, testLogger);
    const worker = await startWorker(db, config);
    try {
      const created = await createCampaignOrThrow(db, { csv: audience() });
      const deploymentId = created.deploymentIds[0]!;

      // The test's own view of when the rate crossed each level, from the books, every 20 ms.
      const crossed: { warning?: number; critical?: number } = {};
      const watch = (async () => {
        for (;;) {
          const d = await deploymentRow(db, deploymentId);
          const attempted = d.sent_count + d.bounced_count + d.failed_count + d.unknown_count;
          const rate = attempted > 0 ? d.bounced_count / attempted : 0;
          if (attempted >= 100 && rate >= 0.05) crossed.warning ??= Date.now();
          if (attempted >= 100 && rate >= 0.08) crossed.critical ??= Date.now();
          if (d.status === 'completed') return;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await waitFor(async () => (await deploymentRow(db, deploymentId)).status === 'completed', { what: 'completion', timeoutMs: 30_000 });
      await watch;
      // Let the monitor take its last looks.
      await new Promise((r) => setTimeout(r, 1000));

      const alerts = await db.sql`select id, metric, severity, state, rate, sample, threshold, top_domains, opened_at, escalated_at, stats from alerts where deployment_id = ${deploymentId}`;
      expect(alerts).toHaveLength(1);
      const alert = alerts[0]!;
      expect(alert).toMatchObject({ metric: 'bounce', severity: 'critical', state: 'open', threshold: 0.08 });
      expect(alert.top_domains).toEqual([{ domain: 'rejecting.example', count: expect.any(Number) }]);
      expect(alert.stats.bounce.sample).toBeGreaterThanOrEqual(100);

      // The monitor's own rows (the Slack side adds edits of its own when the deployment completes).
      const outbox = await db.sql`select kind, dedupe_key, alert_id, payload, created_at from slack_outbox
        where alert_id = ${alert.id} and payload->>'change' in ('opened', 'escalated', 'resolved') order by id`;
      expect(outbox.map((o) => [o.kind, o.payload.change])).toEqual([
        ['post', 'opened'],
        ['update', 'escalated'],
      ]);
      expect(crossed.warning).toBeDefined();
      expect(crossed.critical).toBeDefined();
      const openedLatency = new Date(outbox[0]!.created_at).getTime() - crossed.warning!;
      const escalatedLatency = new Date(outbox[1]!.created_at).getTime() - crossed.critical!;
      expect(openedLatency).toBeLessThan(2000);
      expect(escalatedLatency).toBeLessThan(2000);

      // The other metrics stayed quiet, and the final books show the 10%.
      const final = await deploymentRow(db, deploymentId);
      expect(final).toMatchObject({ bounced_count: 201, sent_count: 1799 });
      expect((await db.sql`select count(*)::int as n from alerts`)[0]!.n).toBe(1);
    } finally {
      await worker.stop();
      await loop.stop();
    }
  });
});
