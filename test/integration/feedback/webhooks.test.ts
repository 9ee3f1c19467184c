import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../../src/app/serve.js';
import { connectDatabase } from '../../../src/db/client.js';
import { createHttpServer } from '../../../src/http/server.js';
import { registerWebhookRoutes } from '../../../src/http/webhooks/routes.js';
import { createCertificateStore } from '../../../src/http/webhooks/sns-certificates.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { createFeedbackIngestor, type FeedbackIngestor } from '../../../src/services/feedback/ingest.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, startWorker, testConfig, testLogger, waitFor } from '../../support/sending.js';
import { fixture, SENDGRID_VECTORS, sesSample, signedNotification, SNS_CERT_PEM, TOPIC_ARN } from '../../support/webhooks.js';

/**
 * The webhooks with the real ingestion service and Postgres: the official samples, pointed at one
 * of our messages, count; replays count once; our own database trouble answers 503.
 */
let db: TestDatabase;
let sink: SmtpSink;
let deploymentId: string;
let server: FastifyInstance;
const sendgridKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const SECRET = 'generic-webhook-secret-0123456789abcdef';

const messageId = (seq: number) => `<cg.${deploymentId}.${seq}@example.com>`;
const books = async () => {
  const d = await deploymentRow(db, deploymentId);
  return { sent: d.sent_count, bounced: d.bounced_count, complaints: d.complaint_count };
};

function routes(ingestor: FeedbackIngestor) {
  const app = createHttpServer({ logger: testLogger });
  registerWebhookRoutes(app, {
    config: { sesTopicArns: [TOPIC_ARN], sendgridPublicKey: sendgridKeys.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), eventsSecret: SECRET },
    ingest: async (parsed) => {
      await ingestor.ingest(parsed);
    },
    certificates: createCertificateStore({ fetchCertificate: async () => SNS_CERT_PEM }),
    confirmSubscription: async () => {},
    logger: testLogger,
  });
  return app;
}

/** An SES sample as SES would send it about one of our messages (its Message-ID is ours). */
function sesAbout(sample: Parameters<typeof sesSample>[0], seq: number, snsMessageId: string) {
  const notification = JSON.parse(sesSample(sample));
  notification.mail.commonHeaders.messageId = messageId(seq);
  return signedNotification(JSON.stringify(notification), { MessageId: snsMessageId }, '1');
}

function sendgridPost(app: FastifyInstance, body: string) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = sign('sha256', Buffer.from(timestamp + body), { key: sendgridKeys.privateKey, dsaEncoding: 'der' }).toString('base64');
  return app.inject({
    method: 'POST',
    url: '/webhooks/sendgrid',
    headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp },
    payload: body,
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
  const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url }));
  try {
    deploymentId = (await createCampaignOrThrow(db, { csv: audienceCsv(50) })).deploymentIds[0]!;
    await waitFor(async () => (await deploymentRow(db, deploymentId)).status === 'completed', { what: 'completion' });
  } finally {
    await worker.stop();
  }
  server = routes(createFeedbackIngestor({ database: db, logger: testLogger }));
});
afterAll(async () => {
  await server.close();
  await sink.close();
  await db.drop();
});

describe('provider webhooks into the ledger', () => {
  it('W6: the official SES bounce (signature v1) counts, and three deliveries of it count once', async () => {
    const envelope = sesAbout('bounce-with-dsn', 1, 'sns-bounce-1');
    for (let i = 0; i < 3; i++) {
      const response = await server.inject({ method: 'POST', url: '/webhooks/ses', headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' }, payload: JSON.stringify(envelope) });
      expect(response.statusCode).toBe(200);
    }
    expect(await books()).toMatchObject({ sent: 49, bounced: 1 });
    const [row] = await db.sql`select status, smtp_reply from deliveries where deployment_id = ${deploymentId} and seq = 1`;
    expect(row).toEqual({ status: 'bounced', smtp_reply: 'smtp; 550 5.1.1 <jane@example.com>... User' });
  });

  it('the official SES complaint (signature v2) counts once per recipient', async () => {
    const notification = JSON.parse(sesSample('complaint-with-feedback-report'));
    notification.mail.commonHeaders.messageId = messageId(2);
    const envelope = signedNotification(JSON.stringify(notification), { MessageId: 'sns-complaint-1' }, '2');
    const response = await server.inject({ method: 'POST', url: '/webhooks/ses', headers: { 'content-type': 'text/plain; charset=UTF-8' }, payload: JSON.stringify(envelope) });
    expect(response.statusCode).toBe(200);
    expect(await books()).toMatchObject({ complaints: 1 });
  });

  it('the official SES samples about messages that are not ours are kept as orphans, not counted', async () => {
    const before = await books();
    for (const [i, sample] of (['bounce-without-dsn', 'delivery', 'complaint-without-feedback-report'] as const).entries()) {
      const envelope = signedNotification(sesSample(sample), { MessageId: `foreign-${i}` }, '2');
      expect((await server.inject({ method: 'POST', url: '/webhooks/ses', payload: JSON.stringify(envelope), headers: { 'content-type': 'text/plain' } })).statusCode).toBe(200);
    }
    expect(await books()).toEqual(before);
    const orphans = await db.sql`select recipient from provider_events where event_id like 'foreign-%' and disposition = 'orphan' order by recipient`;
    expect(orphans.map((o) => o.recipient)).toEqual(['jane@example.com', 'jane@example.com', 'richard@example.com', 'richard@example.com']);
  });

  it('the official SendGrid samples count (bounce) or are recorded (blocked, dropped, deferred); a replayed post counts nothing', async () => {
    const events = ['bounce', 'blocked', 'dropped', 'deferred'].map((name, i) => {
      const [event] = JSON.parse(fixture(`sendgrid/${name}.json`));
      return { ...event, 'smtp-id': messageId(10 + i), sg_event_id: `${event.sg_event_id}-${i}` };
    });
    const body = `${JSON.stringify(events)}\r\n`;
    expect((await sendgridPost(server, body)).statusCode).toBe(200);
    expect((await sendgridPost(server, body)).statusCode).toBe(200);
    expect(await books()).toMatchObject({ sent: 48, bounced: 2 });
    const dispositions = await db.sql`select type, disposition from provider_events where provider = 'sendgrid' order by id`;
    expect(dispositions.map((d) => `${d.type}:${d.disposition}`)).toEqual(['bounce:counted', 'bounce:recorded', 'bounce:recorded', 'deferral:recorded']);
  });

  it('a forged SendGrid post (one byte changed) is refused and changes nothing', async () => {
    const body = `[{"email":"user20@example.com","event":"bounce","type":"bounce","sg_event_id":"forged-1","smtp-id":"${messageId(20)}","timestamp":1700000000}]\r\n`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = sign('sha256', Buffer.from(timestamp + body), { key: sendgridKeys.privateKey, dsaEncoding: 'der' }).toString('base64');
    const response = await server.inject({
      method: 'POST', url: '/webhooks/sendgrid',
      headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp },
      payload: body.replace('"bounce","type"', '"bounce" ,"type"'),
    });
    expect(response.statusCode).toBe(403);
    expect((await db.sql`select count(*)::int as n from provider_events where event_id = 'forged-1'`)[0]!.n).toBe(0);
  });

  it('our generic signed format counts', async () => {
    const body = JSON.stringify({ events: [{ id: 'gen-1', type: 'bounce', bounceType: 'hard', deliveryTag: `${deploymentId}.30`, recipient: 'user30@example.com' }] });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex');
    const response = await server.inject({ method: 'POST', url: '/webhooks/events', headers: { 'content-type': 'application/json', 'x-campaign-guard-timestamp': timestamp, 'x-campaign-guard-signature': `v1=${signature}` }, payload: body });
    expect(response.statusCode).toBe(200);
    expect(await books()).toMatchObject({ bounced: 3 });
  });

  it('W15: answers 503 (the provider retries) when our database is down, and the retry then counts', async () => {
    const broken = connectDatabase('postgres://nobody:wrong@127.0.0.1:1/none', { max: 1 });
    const down = routes(createFeedbackIngestor({ database: broken, logger: testLogger }));
    const envelope = sesAbout('bounce-without-dsn', 40, 'sns-during-outage');
    const post = (app: FastifyInstance) => app.inject({ method: 'POST', url: '/webhooks/ses', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify(envelope) });
    expect((await post(down)).statusCode).toBe(503);
    await down.close();
    await broken.close();
    expect(await books()).toMatchObject({ bounced: 3 });
    expect((await post(server)).statusCode).toBe(200);
    expect(await books()).toMatchObject({ bounced: 4 });
  });

  it('serve wires the routes: SendGrid\'s own signed vector is accepted and stored', async () => {
    const vector = SENDGRID_VECTORS.single;
    const app = await startApp(testConfig(db, { PORT: '0', HOST: '127.0.0.1', SENDGRID_WEBHOOK_PUBLIC_KEY: vector.publicKey }), testLogger, { role: 'web' });
    try {
      const response = await fetch(`${app.url}/webhooks/sendgrid`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': vector.signature, 'x-twilio-email-event-webhook-timestamp': vector.timestamp },
        body: vector.body,
      });
      expect(response.status).toBe(200);
      const [row] = await db.sql`select type, subtype, disposition, recipient from provider_events where event_id = 'ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA'`;
      expect(row).toEqual({ type: 'bounce', subtype: 'hard:dropped', disposition: 'orphan', recipient: 'hello@world.com' });
      expect((await fetch(`${app.url}/webhooks/ses`, { method: 'POST', body: '{}' })).status).toBe(404);
    } finally {
      await app.stop();
    }
  });

  it('W18: a SendGrid event nested 20,000 deep is quarantined alone, as a preview; the rest of its batch counts', async () => {
    const nested = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    const neighbour = `{"email":"user21@example.com","event":"bounce","type":"bounce","sg_event_id":"deep-neighbour","smtp-id":"${messageId(21)}","timestamp":1700000000}`;
    const response = await sendgridPost(server, `[${neighbour},{"event":"bounce","email":"user22@example.com","nested":${nested}}]`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: 1, quarantined: 1 });
    expect(await books()).toMatchObject({ sent: 45, bounced: 5 });
    const [kept] = await db.sql`select disposition, payload->>'reason' as reason, payload->>'rawCut' as cut, length(payload->>'raw') as length from provider_events where provider = 'sendgrid' and type = 'unparsed'`;
    expect(kept).toEqual({ disposition: 'quarantined', reason: 'event nested deeper than 32 levels or larger than 64 KB', cut: 'true', length: expect.any(Number) });
    expect(kept!.length).toBeLessThan(1000);
  });
});
