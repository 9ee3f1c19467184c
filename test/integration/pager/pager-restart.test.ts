import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { enqueuePagerFollowUp, enqueuePagerTrigger } from '../../../src/db/queries/pager-outbox.js';
import { freePort } from '../../../src/lib/processes.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import type { createStopAnnouncer } from '../../../src/queue/stop-signal.js';
import { createAccessService } from '../../../src/services/access.js';
import { createControlService } from '../../../src/services/control.js';
import { createPauseResume } from '../../../src/services/sending/pause-resume.js';
import { openAlertForTest } from '../../support/alerts.js';
import { createCampaignOrThrow } from '../../support/builders.js';
import { startServe, waitForHttp, type ServeProcess } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { ROUTING_KEY, startFakePagerDuty, type FakePagerDuty } from '../../support/fake-pagerduty.js';
import { testConfig, testLogger, waitFor, workerEnv } from '../../support/sending.js';

/**
 * Done-when 2 of the on-call issue, with real processes: `serve --role worker` with Slack off
 * (no SLACK_* at all) pages a fake PagerDuty; it is SIGKILLed while PagerDuty is failing and a
 * new one takes over; trigger, acknowledge and resolve (the resolve from a real cancel) arrive
 * exactly once each, in order.
 */
let db: TestDatabase;
let sink: SmtpSink;
let pagerDuty: FakePagerDuty;
const processes: ServeProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
  pagerDuty = await startFakePagerDuty();
  await createAccessService({ db: db.db, clock: () => new Date() }).grant('U_ONCALL', 'responder', 'test');
});
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL', 10_000)));
});
afterAll(async () => {
  await pagerDuty.close();
  await sink.close();
  await db.drop();
});

async function worker(env: Record<string, string>): Promise<{ process: ServeProcess; base: string }> {
  const healthPort = await freePort();
  const started = startServe({ ...env, HEALTH_PORT: String(healthPort), HOST: '127.0.0.1' }, ['--role', 'worker']);
  processes.push(started);
  const base = `http://127.0.0.1:${healthPort}`;
  try {
    await waitForHttp(`${base}/healthz`, { timeoutMs: 60_000, isAlive: started.running });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${started.output().stderr}`, { cause: error });
  }
  return { process: started, base };
}

const pagerRows = (alertId: string) =>
  db.sql<{ action: string; status: string; attempts: number; last_error: string | null }[]>`select action, status, attempts, last_error from pager_outbox where alert_id = ${alertId} order by id`;

describe('paging across a worker restart, with Slack off', () => {
  it('trigger, acknowledge and resolve reach PagerDuty exactly once each, in order, through 429s, 5xx and a SIGKILL', async () => {
    const config = testConfig(db, { SMTP_URL: sink.url });
    const env = workerEnv(config, db, sink.url, { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pagerDuty.url });
    const { deploymentIds } = await createCampaignOrThrow(db, { sendAt: new Date(Date.now() + 3_600_000) });
    const deploymentId = deploymentIds[0]!;
    const alertId = await openAlertForTest(db, deploymentId, { severity: 'critical', rate: 0.14, threshold: 0.1 });

    const first = await worker(env);
    // Nobody acknowledged in time: the escalation pages (as the sweep does, in its transaction).
    pagerDuty.failNext({ status: 429, retryAfter: '1' }, { status: 500 });
    await db.sql.begin((tx) => enqueuePagerTrigger(tx, ['pagerduty'], [alertId]));
    await waitFor(async () => pagerDuty.actionsFor(alertId).length === 1, { timeoutMs: 30_000, what: 'the trigger' });

    // A responder acknowledges while PagerDuty fails; the worker dies between two attempts.
    pagerDuty.failNext({ status: 503 }, { status: 503 }, { status: 503 });
    await db.sql.begin((tx) => enqueuePagerFollowUp(tx, { alertIds: [alertId] }, 'acknowledge'));
    await waitFor(async () => (await pagerRows(alertId))[1]?.last_error === 'HTTP 503', { timeoutMs: 30_000, what: 'a failed acknowledge' });
    first.process.process.kill('SIGKILL');
    await first.process.exited;
    expect(pagerDuty.actionsFor(alertId)).toEqual(['trigger']);

    const second = await worker(env);
    await waitFor(async () => pagerDuty.actionsFor(alertId).length === 2, { timeoutMs: 90_000, what: 'the acknowledge from the new worker' });

    // The deployment is cancelled: the page is resolved.
    const announcer = { announce: async () => undefined } as unknown as ReturnType<typeof createStopAnnouncer>;
    const control = createControlService({ database: db, announcer, pauseResume: createPauseResume({ database: db, announcer }), logger: testLogger });
    expect(await control.cancel({ target: deploymentId, actor: 'U_ONCALL', reason: 'bounce storm' })).toMatchObject({ outcome: 'cancelled' });
    await waitFor(async () => pagerDuty.actionsFor(alertId).length === 3, { timeoutMs: 30_000, what: 'the resolve' });

    // Settled: nothing more arrives, and the worker's metrics say what it delivered.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(pagerDuty.actionsFor(alertId)).toEqual(['trigger', 'acknowledge', 'resolve']);
    expect((await pagerRows(alertId)).map((r) => `${r.action}:${r.status}`)).toEqual(['trigger:delivered', 'acknowledge:delivered', 'resolve:delivered']);
    const metrics = await (await fetch(`${second.base}/metrics`)).text();
    expect(metrics).toContain('campaign_guard_pager_events_total{destination="pagerduty",action="resolve",outcome="delivered"} 1');
    expect(metrics).toContain('campaign_guard_pager_outbox_pending{destination="pagerduty"} 0');
    const stopped = await second.process.stop('SIGTERM');
    expect(stopped).toMatchObject({ code: 0, timedOut: false });
    expect(second.process.output().stderr).not.toMatch(/"level":50/);
  }, 180_000);
});
