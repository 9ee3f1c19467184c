import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../../src/app/serve.js';
import { signGenericBody } from '../../../src/http/webhooks/generic.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, startWorker, testConfig, testLogger, waitFor } from '../../support/sending.js';

/**
 * Issue 19, finding 1, through the real `serve --role web` and Postgres: a poisoned feedback event
 * posted at the same moment as 400 valid requests (so they share group commits) fails nobody. The
 * issue's poison (an emoji astride the 500-character cut, NULs in id, recipient and subtype) is
 * stored cleaned and counts; an event the database refuses all the same (a trigger stands in for
 * whatever refusal nobody foresaw) is quarantined alone and counted in the metric.
 */
const SECRET = 'poisoned-event-secret-0123456789abcdef';
const VALID = 400;
let db: TestDatabase;
let sink: SmtpSink;
let app: RunningApp;
let deploymentId: string;

function post(events: Record<string, unknown>[]) {
  const body = JSON.stringify({ events });
  const timestamp = String(Math.floor(Date.now() / 1000));
  return fetch(`${app.url}/webhooks/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-campaign-guard-timestamp': timestamp, 'x-campaign-guard-signature': signGenericBody(SECRET, timestamp, body) },
    body,
  });
}

const bounce = (seq: number, overrides: Record<string, unknown> = {}) => ({
  id: `bounce-${seq}`,
  type: 'bounce',
  bounceType: 'hard',
  deliveryTag: `${deploymentId}.${seq}`,
  recipient: `user${seq}@example.com`,
  detail: 'smtp; 550 5.1.1 user unknown',
  ...overrides,
});

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
  const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url, SEND_CONCURRENCY: '8' }));
  try {
    deploymentId = (await createCampaignOrThrow(db, { csv: audienceCsv(VALID + 2) })).deploymentIds[0]!;
    await waitFor(async () => (await deploymentRow(db, deploymentId)).status === 'completed', { what: 'completion', timeoutMs: 60_000 });
  } finally {
    await worker.stop();
  }
  // Refuses, as Postgres refuses data it cannot take (SQLSTATE 22023), one recipient's events unless quarantined.
  await db.sql.unsafe(`
    create function refuse_poison() returns trigger language plpgsql as $$
    begin
      if new.recipient = 'user${VALID + 2}@example.com' and new.disposition <> 'quarantined' then
        raise exception 'invalid parameter value' using errcode = '22023';
      end if;
      return new;
    end $$;
    create trigger refuse_poison before insert on provider_events for each row execute function refuse_poison();`);
  app = await startApp(testConfig(db, { PORT: '0', HOST: '127.0.0.1', EVENTS_WEBHOOK_SECRET: SECRET }), testLogger, { role: 'web' });
}, 120_000);
afterAll(async () => {
  await app?.stop();
  await sink?.close();
  await db?.drop();
});

describe('one poisoned event among 400 valid requests at once', () => {
  it('W17: the 400 valid requests answer 200 and count; the poison is stored cleaned, or quarantined alone', async () => {
    const straddling = `${'x'.repeat(499)}\u{1F4E8} and the rest of a long remote reply`;
    const poisoned = bounce(VALID + 1, { id: 'poison\u00001', recipient: `user${VALID + 1}\u0000@example.com`, subtype: 'mailbox\u0000full', detail: straddling });
    const refused = bounce(VALID + 2);
    const requests = [...Array.from({ length: VALID }, (_, i) => [bounce(i + 1)]), [poisoned], [refused]];
    const responses = await Promise.all(requests.map((events) => post(events)));

    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(await responses.at(-1)!.json()).toEqual({ received: 0, quarantined: 1 });
    const d = await deploymentRow(db, deploymentId);
    expect({ sent: d.sent_count, bounced: d.bounced_count }).toEqual({ sent: 1, bounced: VALID + 1 });

    const [cleaned] = await db.sql`select event_id, recipient, subtype, disposition, payload->>'detail' as detail from provider_events where deployment_id = ${deploymentId} and seq = ${VALID + 1}`;
    expect(cleaned).toEqual({ event_id: 'poison\ufffd1', recipient: `user${VALID + 1}\ufffd@example.com`, subtype: 'hard:mailbox\ufffdfull', disposition: 'counted', detail: `${'x'.repeat(499)}\u{1F4E8}` });
    const [kept] = await db.sql`select disposition, payload from provider_events where event_id = ${`bounce-${VALID + 2}`}`;
    expect(kept).toMatchObject({ disposition: 'quarantined', payload: { reason: expect.stringContaining('the database refused it: invalid parameter value'), raw: { recipient: `user${VALID + 2}@example.com` } } });

    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain('campaign_guard_feedback_quarantined_total{provider="generic",cause="unstorable"} 1');
  });
});
