import { createHmac, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueuePagerFollowUp, enqueuePagerTrigger } from '../../../src/db/queries/pager-outbox.js';
import { createPagerDeliverer } from '../../../src/paging/deliverer.js';
import { createWebhookSender } from '../../../src/paging/webhook.js';
import { openAlertForTest } from '../../support/alerts.js';
import { createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { startFakeAlertWebhook, type ReceivedHook } from '../../support/fake-alert-webhook.js';
import { waitFor } from '../../support/sending.js';

/**
 * The generic alert webhook: what a receiver gets (verified here the way the README tells a
 * receiver to, with node:crypto, not with our signer), and what a receiver that fails, refuses
 * or cannot be reached does to the outbox: a logged retry or a logged failure, never a crash.
 */
const SECRET = 'alert-webhook-secret-0123456789abcdef';
let db: TestDatabase;
let receiver: Awaited<ReturnType<typeof startFakeAlertWebhook>>;
const lines: Record<string, unknown>[] = [];
const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => void (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) }));

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startFakeAlertWebhook();
});
afterAll(async () => {
  await receiver.close();
  await db.drop();
});

const deliverer = (url: string) =>
  createPagerDeliverer({
    sql: db.sql,
    senders: [createWebhookSender({ url, secret: SECRET, timeoutMs: 2000 })],
    links: { runbook: undefined, dashboard: 'https://grafana.example.com/d/sends?var-deployment={deployment_id}', slackWorkspaceUrl: undefined },
    logger,
    pollMs: 20,
    backoffBaseSeconds: 0.05,
  });

async function triggeredAlert(): Promise<{ alertId: string; deploymentId: string; campaignId: string }> {
  const { deploymentIds, campaignId } = await createCampaignOrThrow(db, { sendAt: new Date(Date.now() + 3_600_000) });
  const deploymentId = deploymentIds[0]!;
  const alertId = await openAlertForTest(db, deploymentId, { severity: 'critical', rate: 0.12, threshold: 0.1 });
  await enqueuePagerTrigger(db.sql, ['webhook'], [alertId]);
  return { alertId, deploymentId, campaignId };
}

/** What the README's receiver does: recompute the HMAC over "<timestamp>.<raw body>", compare in constant time, check the clock. */
function receiverAccepts(hook: ReceivedHook, secret: string): boolean {
  const timestamp = hook.headers['x-campaign-guard-timestamp'];
  const signature = hook.headers['x-campaign-guard-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${timestamp}.${hook.raw}`).digest('hex')}`);
  return signature.split(',').some((candidate) => {
    const given = Buffer.from(candidate.trim());
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const rowsOf = (alertId: string) =>
  db.sql<{ action: string; status: string; attempts: number; last_error: string | null }[]>`select action, status, attempts, last_error from pager_outbox where alert_id = ${alertId} order by id`;

describe('alert webhook', () => {
  it('signs each event so a receiver verifies it with the documented recipe; a 500 is retried, and each event arrives once, in order', async () => {
    const { alertId, deploymentId, campaignId } = await triggeredAlert();
    await enqueuePagerFollowUp(db.sql, { alertIds: [alertId] }, 'acknowledge');
    await enqueuePagerFollowUp(db.sql, { deploymentIds: [deploymentId] }, 'resolve');
    receiver.answerNext(500, 503);
    const running = deliverer(receiver.url);
    running.start();
    try {
      await waitFor(async () => (await rowsOf(alertId)).every((r) => r.status === 'delivered'), { timeoutMs: 20_000, what: 'the three events delivered' });
    } finally {
      await running.stop();
    }
    const ours = receiver.received.filter((r) => r.raw.includes(alertId));
    expect(ours.map((r) => r.status)).toEqual([500, 503, 200, 200, 200]);
    for (const hook of ours) {
      expect(receiverAccepts(hook, SECRET)).toBe(true);
      expect(receiverAccepts(hook, 'some-other-secret-0123456789abcdefgh')).toBe(false);
      expect(hook.headers['content-type']).toBe('application/json');
    }
    const bodies = ours.filter((r) => r.status === 200).map((r) => JSON.parse(r.raw) as Record<string, unknown>);
    expect(bodies.map((b) => [b.id, b.action])).toEqual([
      [`pager:${alertId}:webhook:trigger`, 'trigger'],
      [`pager:${alertId}:webhook:acknowledge`, 'acknowledge'],
      [`pager:${alertId}:webhook:resolve`, 'resolve'],
    ]);
    expect(bodies[0]).toMatchObject({
      summary: `Bounce rate 12.0% (critical, threshold 10.0%) on Test campaign / Test campaign (${deploymentId}) — open less than a minute, nobody acknowledged`,
      alert: { id: alertId, metric: 'bounce', severity: 'critical', rate: 0.12, threshold: 0.1, state: 'open' },
      campaign: { id: campaignId, name: 'Test campaign' },
      deployment: { id: deploymentId, name: 'Test campaign', status: 'scheduled' },
      links: [{ href: `https://grafana.example.com/d/sends?var-deployment=${deploymentId}`, text: 'Dashboard' }],
    });
    expect(Date.parse(String(bodies[0]!.occurred_at))).toBeGreaterThan(Date.now() - 60_000);
    expect(bodies[2]!.summary).toMatch(/ — deployment scheduled$/);
    expect(lines.filter((l) => l.msg === 'pager event not delivered; will retry' && l.detail === 'HTTP 500: status 500')).toHaveLength(1);
  }, 40_000);

  it('O10: a URL nobody listens on is a logged retry, never a crash, and the event goes once the receiver is back', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { alertId } = await triggeredAlert();
    const running = deliverer(`http://127.0.0.1:${port}/hooks`);
    running.start();
    try {
      const [row] = await waitFor(async () => {
        const rows = await rowsOf(alertId);
        return rows[0]!.attempts >= 3 && rows;
      }, { what: 'three attempts' });
      expect(row).toMatchObject({ status: 'pending', last_error: 'cannot be reached (ECONNREFUSED)' });
      expect(lines.some((l) => l.msg === 'pager event not delivered; will retry' && l.detail === 'cannot be reached (ECONNREFUSED)' && l.level === 40)).toBe(true);
    } finally {
      await running.stop();
    }
    // The receiver at its real address now: the waiting event goes there, once.
    const back = deliverer(receiver.url);
    await db.sql`update pager_outbox set next_attempt_at = now() where alert_id = ${alertId}`;
    back.start();
    try {
      await waitFor(async () => (await rowsOf(alertId))[0]!.status === 'delivered', { what: 'delivery once the receiver answers' });
    } finally {
      await back.stop();
    }
    expect(receiver.delivered().filter((b) => b.id === `pager:${alertId}:webhook:trigger`)).toHaveLength(1);
  }, 40_000);

  it('a URL with a user and password sends them as Basic auth', async () => {
    const { alertId } = await triggeredAlert();
    const url = new URL(receiver.url);
    url.username = 'pager';
    url.password = 's3cret:with@odd';
    await deliverer(url.toString()).runOnce();
    expect(await rowsOf(alertId)).toMatchObject([{ status: 'delivered' }]);
    const hook = receiver.received.find((r) => r.raw.includes(alertId))!;
    expect(hook.headers.authorization).toBe(`Basic ${Buffer.from('pager:s3cret:with@odd').toString('base64')}`);
  });

  it('a receiver refusing the event (404) fails it for good, logged; 408 and 429 are retried', async () => {
    const refused = await triggeredAlert();
    receiver.answerNext(404);
    const running = deliverer(receiver.url);
    await running.runOnce();
    expect(await rowsOf(refused.alertId)).toMatchObject([{ status: 'failed', last_error: 'HTTP 404: status 404' }]);
    expect(lines.some((l) => l.msg === 'pager event failed for good' && l.alertId === refused.alertId && l.level === 50)).toBe(true);

    const retried = await triggeredAlert();
    receiver.answerNext(408, 429);
    running.start();
    try {
      await waitFor(async () => (await rowsOf(retried.alertId))[0]!.status === 'delivered', { what: 'delivery after 408 and 429' });
    } finally {
      await running.stop();
    }
    expect(receiver.received.filter((r) => r.raw.includes(retried.alertId)).map((r) => r.status)).toEqual([408, 429, 200]);
  }, 30_000);
});
