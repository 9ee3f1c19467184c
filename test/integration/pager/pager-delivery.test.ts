import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueuePagerFollowUp, enqueuePagerTrigger } from '../../../src/db/queries/pager-outbox.js';
import { createPagerDeliverer, type PagerDelivererOptions } from '../../../src/paging/deliverer.js';
import { createPagerDutySender } from '../../../src/paging/pagerduty.js';
import { openAlertForTest } from '../../support/alerts.js';
import { createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { ROUTING_KEY, startFakePagerDuty, type FakePagerDuty } from '../../support/fake-pagerduty.js';
import { waitFor } from '../../support/sending.js';

/**
 * The pager outbox delivered to a fake PagerDuty Events API v2 speaking its documented format:
 * each event once, in order per alert, through rate limits and server errors, with two
 * deliverers racing; a refused event fails for good and takes its alert's later events with it;
 * an accepted event whose delivery cannot be recorded is recorded later, never sent again.
 */
let db: TestDatabase;
let pagerDuty: FakePagerDuty;
const lines: Record<string, unknown>[] = [];
const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => void (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) }));

beforeAll(async () => {
  db = await createTestDatabase();
  pagerDuty = await startFakePagerDuty();
});
afterAll(async () => {
  await pagerDuty.close();
  await db.drop();
});

const deliverer = (overrides: Partial<PagerDelivererOptions> = {}) =>
  createPagerDeliverer({
    sql: db.sql,
    senders: [createPagerDutySender({ routingKey: ROUTING_KEY, eventsUrl: pagerDuty.url, timeoutMs: 5000 })],
    links: { runbook: 'https://wiki.example.com/runbooks/{metric}?deployment={deployment_id}', dashboard: undefined, slackWorkspaceUrl: 'https://acme.slack.com/' },
    logger,
    pollMs: 20,
    backoffBaseSeconds: 0.05,
    leaseSeconds: 10,
    ...overrides,
  });

async function alertOfNewCampaign(): Promise<{ alertId: string; deploymentId: string }> {
  const { deploymentIds } = await createCampaignOrThrow(db, { sendAt: new Date(Date.now() + 3_600_000) });
  const deploymentId = deploymentIds[0]!;
  return { alertId: await openAlertForTest(db, deploymentId), deploymentId };
}

const outbox = (alertId: string) =>
  db.sql<{ id: number; action: string; status: string; last_error: string | null }[]>`select id, action, status, last_error from pager_outbox where alert_id = ${alertId} order by id`;

describe('pager delivery to PagerDuty (Events API v2)', () => {
  it('trigger, acknowledge and resolve arrive exactly once each, in order, through 429s and 5xx, with two deliverers racing', async () => {
    const { alertId, deploymentId } = await alertOfNewCampaign();
    await db.sql`update alerts set slack_channel = 'C0ALERTS01', slack_ts = '1733400000.123456' where id = ${alertId}`;
    await db.sql.begin(async (tx) => {
      await enqueuePagerTrigger(tx, ['pagerduty'], [alertId]);
    });
    await db.sql.begin(async (tx) => {
      await enqueuePagerFollowUp(tx, { alertIds: [alertId] }, 'acknowledge');
    });
    await db.sql.begin(async (tx) => {
      await enqueuePagerFollowUp(tx, { deploymentIds: [deploymentId] }, 'resolve');
    });
    pagerDuty.failNext({ status: 429, retryAfter: '1' }, { status: 500 }, { status: 503 }, { status: 429 }, { status: 502 });
    const settled: string[] = [];
    const first = deliverer({ onSettled: (destination, action, outcome) => settled.push(`${destination}:${action}:${outcome}`) });
    const second = deliverer({ onSettled: (destination, action, outcome) => settled.push(`${destination}:${action}:${outcome}`) });
    const requestsBefore = pagerDuty.requests.length;
    first.start();
    second.start();
    try {
      await waitFor(async () => (await outbox(alertId)).every((r) => r.status === 'delivered'), { timeoutMs: 30_000, what: 'all three events delivered' });
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
    expect(pagerDuty.actionsFor(alertId)).toEqual(['trigger', 'acknowledge', 'resolve']);
    expect(settled).toEqual(['pagerduty:trigger:delivered', 'pagerduty:acknowledge:delivered', 'pagerduty:resolve:delivered']);
    const requests = pagerDuty.requests.slice(requestsBefore);
    expect(requests.map((r) => r.status)).toEqual([429, 500, 503, 429, 502, 202, 202, 202]);
    // The first 429 said Retry-After: 1, and nothing was sent before that second was over.
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(950);

    const [trigger, acknowledge, resolve] = pagerDuty.accepted.filter((e) => e.dedup_key === alertId).map((e) => e.body);
    expect(trigger).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: alertId,
      client: 'Campaign Guard',
      client_url: 'https://acme.slack.com/archives/C0ALERTS01/p1733400000123456',
      payload: { severity: 'warning', source: `campaign-guard/${deploymentId}`, class: 'bounce rate', custom_details: { alert_id: alertId, deployment_id: deploymentId, rate: 0.061, threshold: 0.05 } },
      links: [
        { href: 'https://acme.slack.com/archives/C0ALERTS01/p1733400000123456', text: 'Alert in Slack' },
        { href: `https://wiki.example.com/runbooks/bounce?deployment=${deploymentId}`, text: 'Runbook' },
      ],
    });
    expect((trigger!.payload as { summary: string }).summary).toBe(
      `Bounce rate 6.1% (warning, threshold 5.0%) on Test campaign / Test campaign (${deploymentId}) — open less than a minute, nobody acknowledged`,
    );
    expect(acknowledge).toEqual({ routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: alertId });
    expect(resolve).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: alertId });
  }, 60_000);

  it('O10: an event PagerDuty refuses (400) fails for good with its reason, and so do the acknowledge and resolve of that alert', async () => {
    const { alertId } = await alertOfNewCampaign();
    await enqueuePagerTrigger(db.sql, ['pagerduty'], [alertId]);
    await enqueuePagerFollowUp(db.sql, { alertIds: [alertId] }, 'acknowledge');
    await enqueuePagerFollowUp(db.sql, { alertIds: [alertId] }, 'resolve');
    const requestsBefore = pagerDuty.requests.length;
    const settled: string[] = [];
    // A routing key PagerDuty does not take: what it answers is a 400 "invalid event".
    const refused = deliverer({
      senders: [createPagerDutySender({ routingKey: 'not-a-routing-key', eventsUrl: pagerDuty.url, timeoutMs: 5000 })],
      onSettled: (destination, action, outcome) => settled.push(`${action}:${outcome}`),
    });
    for (let pass = 0; pass < 3; pass++) await refused.runOnce();

    const rows = await outbox(alertId);
    expect(rows.map((r) => `${r.action}:${r.status}`)).toEqual(['trigger:failed', 'acknowledge:failed', 'resolve:failed']);
    expect(rows[0]!.last_error).toBe("HTTP 400 invalid event: Event object is invalid (Length of 'routing_key' is incorrect (should be 32 characters))");
    expect(rows[1]!.last_error).toBe(`its trigger (outbox row ${rows[0]!.id}) failed for good: ${rows[0]!.last_error}`);
    expect(settled).toEqual(['trigger:failed', 'acknowledge:failed', 'resolve:failed']);
    // Sent once: a refused event is not retried, and what followed it was never sent.
    expect(pagerDuty.requests.length - requestsBefore).toBe(1);
    const failure = lines.find((l) => l.msg === 'pager event failed for good' && l.outboxId === rows[0]!.id);
    expect(failure).toMatchObject({ level: 50, dedupeKey: `pager:${alertId}:pagerduty:trigger`, alertId, destination: 'pagerduty', action: 'trigger' });
  });

  it('an event PagerDuty accepted whose delivery cannot be recorded is recorded once Postgres takes it, never sent again', async () => {
    const { alertId } = await alertOfNewCampaign();
    await enqueuePagerTrigger(db.sql, ['pagerduty'], [alertId]);
    // Postgres refusing to record a delivery, as when it goes away right after PagerDuty answered.
    await db.sql.unsafe(`
      create table if not exists refuse_pager_delivered (alert_id text primary key);
      create or replace function refuse_pager_delivered() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from refuse_pager_delivered where alert_id = new.alert_id) then raise exception 'simulated outage'; end if;
        return new;
      end $$;
      drop trigger if exists refuse_pager_delivered on pager_outbox;
      create trigger refuse_pager_delivered before update on pager_outbox for each row when (new.status = 'delivered') execute function refuse_pager_delivered();`);
    await db.sql`insert into refuse_pager_delivered values (${alertId})`;
    const leaseSeconds = 1;
    const stubborn = deliverer({ leaseSeconds });
    expect(await stubborn.runOnce()).toBe(1);
    expect(stubborn.unrecordedCount()).toBe(1);
    expect(pagerDuty.actionsFor(alertId)).toEqual(['trigger']);
    // Past the lease: the row is due again, but this deliverer records before it claims anything.
    await new Promise((resolve) => setTimeout(resolve, leaseSeconds * 1000 + 200));
    expect(await stubborn.runOnce()).toBe(0);
    expect(pagerDuty.actionsFor(alertId)).toEqual(['trigger']);

    await db.sql`delete from refuse_pager_delivered where alert_id = ${alertId}`;
    await stubborn.runOnce();
    expect(stubborn.unrecordedCount()).toBe(0);
    expect((await outbox(alertId)).map((r) => r.status)).toEqual(['delivered']);
    expect(pagerDuty.actionsFor(alertId)).toEqual(['trigger']);
    expect(lines.some((l) => l.msg === 'pager delivery recorded after a delay' && l.dedupeKey === `pager:${alertId}:pagerduty:trigger`)).toBe(true);
  }, 30_000);
});
