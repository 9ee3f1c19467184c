import { afterEach, describe, expect, it } from 'vitest';
import { SES_SAMPLES, sesSample, signedNotification, signedSubscriptionConfirmation, signEnvelope, TOPIC_ARN, W3_CERT_URLS } from '../../../support/webhooks.js';
import { events, webhookServer } from './harness.js';

type Harness = Awaited<ReturnType<typeof webhookServer>>;
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.server.close();
  harness = undefined;
});

async function start(options: Parameters<typeof webhookServer>[0] = {}) {
  harness = await webhookServer(options);
  return harness;
}

const post = (h: Harness, envelope: unknown, headers: Record<string, string> = {}) =>
  h.server.inject({
    method: 'POST',
    url: '/webhooks/ses',
    headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification', ...headers },
    payload: typeof envelope === 'string' ? envelope : JSON.stringify(envelope, null, 2),
  });

const EXPECTED: Record<(typeof SES_SAMPLES)[number], [string, string | undefined, string][]> = {
  'bounce-with-dsn': [['bounce', 'hard', 'jane@example.com']],
  'bounce-without-dsn': [
    ['bounce', 'hard', 'jane@example.com'],
    ['bounce', 'hard', 'richard@example.com'],
  ],
  'complaint-with-feedback-report': [['complaint', undefined, 'richard@example.com']],
  'complaint-without-feedback-report': [['complaint', undefined, 'richard@example.com']],
  delivery: [['delivery', undefined, 'jane@example.com']],
};

describe('POST /webhooks/ses', () => {
  describe.each(['1', '2'] as const)('SignatureVersion %s', (version) => {
    it.each(SES_SAMPLES)('the official %s sample reaches ingest as the right events', async (name) => {
      const h = await start();
      const response = await post(h, signedNotification(sesSample(name), {}, version));
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ received: EXPECTED[name].length, quarantined: 0 });
      expect(events(h.ingested).map((e) => [e.kind, e.bounceClass, e.recipient])).toEqual(EXPECTED[name]);
      expect(h.fetchCertificate).toHaveBeenCalledTimes(1);
    });
  });

  it('accepts any content type, or none (SNS sends text/plain)', async () => {
    const h = await start();
    const body = JSON.stringify(signedNotification(sesSample('delivery')));
    for (const headers of [{ 'content-type': 'application/json' }, { 'content-type': 'application/x-www-form-urlencoded' }, {}]) {
      const response = await h.server.inject({ method: 'POST', url: '/webhooks/ses', headers, payload: body });
      expect(response.statusCode).toBe(200);
    }
    expect(h.ingest).toHaveBeenCalledTimes(3);
  });

  it('W6: a retried delivery gives the same event ids (the ingestion service dedupes on them)', async () => {
    const h = await start();
    const envelope = signedNotification(sesSample('bounce-without-dsn'));
    expect((await post(h, envelope)).statusCode).toBe(200);
    expect((await post(h, envelope)).statusCode).toBe(200);
    const [first, retry] = h.ingested;
    expect(retry!.events.map((e) => e.eventId)).toEqual(first!.events.map((e) => e.eventId));
    expect(h.fetchCertificate).toHaveBeenCalledTimes(1);
  });

  it('W1: a topic not on the allowlist is 403 and nothing is fetched', async () => {
    const h = await start();
    const response = await post(h, signedNotification(sesSample('delivery'), { TopicArn: 'arn:aws:sns:us-west-2:999999999999:other' }));
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ error: 'TopicArn is not in SES_TOPIC_ARNS' });
    expect(h.fetchCertificate).not.toHaveBeenCalled();
    expect(h.ingest).not.toHaveBeenCalled();
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 40, webhook: 'ses', status: 403, reason: 'TopicArn is not in SES_TOPIC_ARNS' }));
  });

  it.each([
    ['SignatureVersion "3"', { SignatureVersion: '3' }],
    ['a missing Signature', { Signature: undefined }],
    ['an invalid base64 Signature', { Signature: '%%%not-base64%%%' }],
    ['a signature by another key', { Signature: Buffer.alloc(256, 7).toString('base64') }],
  ])('W2: %s is 403', async (_name, override) => {
    const h = await start();
    const response = await post(h, { ...signedNotification(sesSample('delivery')), ...override });
    expect(response.statusCode).toBe(403);
    expect(h.ingest).not.toHaveBeenCalled();
  });

  it.each(W3_CERT_URLS)('W3: SigningCertURL %s is 403 with no outbound fetch', async (url) => {
    const h = await start();
    const response = await post(h, signedNotification(sesSample('delivery'), { SigningCertURL: url }));
    expect(response.statusCode).toBe(403);
    expect(h.fetchCertificate).not.toHaveBeenCalled();
    expect(h.ingest).not.toHaveBeenCalled();
  });

  it('W4: raw message delivery is 403', async () => {
    const h = await start();
    const response = await post(h, sesSample('bounce-with-dsn'), { 'x-amz-sns-rawdelivery': 'true' });
    expect(response.statusCode).toBe(403);
    expect(h.fetchCertificate).not.toHaveBeenCalled();
  });

  it('W7: a Message that is not an SES notification is quarantined with 200', async () => {
    const h = await start();
    for (const message of ['Hello world!', '{"notificationType":"Teleport","mail":{}}']) {
      const response = await post(h, signedNotification(message, { MessageId: `id-${message.length}` }));
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ received: 0, quarantined: 1 });
    }
    expect(h.ingested.map((p) => p.quarantined[0]?.eventId)).toEqual(['id-12', 'id-41']);
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 40, msg: 'webhook input quarantined' }));
  });

  it('W9: a bounce naming nobody is 200 and needs no ingest call; 1,000 recipients all arrive', async () => {
    const h = await start();
    const empty = JSON.parse(sesSample('bounce-with-dsn'));
    empty.bounce.bouncedRecipients = [];
    expect((await post(h, signedNotification(JSON.stringify(empty)))).statusCode).toBe(200);
    expect(h.ingest).not.toHaveBeenCalled();
    const many = JSON.parse(sesSample('bounce-with-dsn'));
    many.bounce.bouncedRecipients = Array.from({ length: 1000 }, (_, i) => ({ emailAddress: `u${i}@example.com` }));
    const response = await post(h, signedNotification(JSON.stringify(many)));
    expect(response.json()).toEqual({ received: 1000, quarantined: 0 });
  });

  it('W10: suppression-list and auto-reply bounces arrive, marked as not counting toward the rate', async () => {
    const h = await start();
    for (const [bounceType, bounceSubType] of [['Permanent', 'OnAccountSuppressionList'], ['Transient', 'General']]) {
      const n = JSON.parse(sesSample('bounce-with-dsn'));
      Object.assign(n.bounce, { bounceType, bounceSubType });
      expect((await post(h, signedNotification(JSON.stringify(n), { MessageId: bounceSubType! }))).statusCode).toBe(200);
    }
    expect(events(h.ingested).map((e) => [e.subtype, e.countsTowardRate])).toEqual([
      ['Permanent/OnAccountSuppressionList', false],
      ['Transient/General', false],
    ]);
  });

  it('W15: ingest throwing (our database down) is 503, so SNS retries', async () => {
    const h = await start({ ingest: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) });
    const response = await post(h, signedNotification(sesSample('bounce-with-dsn')));
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ error: expect.any(String) });
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 50, webhook: 'ses' }));
  });

  it('a certificate that cannot be fetched is 503 (temporary), a bad one 403', async () => {
    const down = await start({ fetchCertificate: async () => Promise.reject(new Error('ETIMEDOUT')) });
    expect((await post(down, signedNotification(sesSample('delivery')))).statusCode).toBe(503);
    await down.server.close();
    const bad = await start({ fetchCertificate: async () => 'not a certificate' });
    expect((await post(bad, signedNotification(sesSample('delivery')))).statusCode).toBe(403);
  });

  it.each([
    ['not JSON', 'Hello'],
    ['an unknown Type', JSON.stringify({ ...signedNotification('{}'), Type: 'Gossip' })],
  ])('a body that is %s is 400', async (_name, body) => {
    const h = await start();
    expect((await post(h, body)).statusCode).toBe(400);
  });

  it('is 404 with a hint when SES_TOPIC_ARNS is unset', async () => {
    const h = await start({ config: { sesTopicArns: [] } });
    const response = await post(h, signedNotification(sesSample('delivery')));
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'SES webhook not configured: set SES_TOPIC_ARNS' });
  });

  it('a 2 MB body is 413, and the server still answers /healthz', async () => {
    const h = await start();
    const response = await post(h, 'x'.repeat(2 * 1024 * 1024));
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({ error: 'body too large' });
    expect((await h.server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('leaves JSON parsing of the rest of the server alone', async () => {
    const h = await start();
    const response = await h.server.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
    expect(response.json()).toEqual({ body: { a: 1 } });
  });
});

describe('POST /webhooks/ses: subscriptions', () => {
  const postConfirmation = (h: Harness, envelope: unknown) =>
    h.server.inject({ method: 'POST', url: '/webhooks/ses', headers: { 'content-type': 'text/plain; charset=UTF-8' }, payload: JSON.stringify(envelope) });

  it.each(['1', '2'] as const)('confirms a signed, allowlisted SubscriptionConfirmation (v%s) by GETting its SubscribeURL', async (version) => {
    const h = await start();
    const envelope = signedSubscriptionConfirmation({}, version);
    const response = await postConfirmation(h, envelope);
    expect(response.statusCode).toBe(200);
    expect(h.confirmSubscription).toHaveBeenCalledExactlyOnceWith(envelope.SubscribeURL);
    expect(h.ingest).not.toHaveBeenCalled();
  });

  it.each([
    ['an unknown topic', () => signedSubscriptionConfirmation({ TopicArn: 'arn:aws:sns:us-west-2:999999999999:other' })],
    ['a SubscribeURL on a foreign host', () => signedSubscriptionConfirmation({ SubscribeURL: 'https://evil.tld/?Action=ConfirmSubscription' })],
    ['a SubscribeURL on the metadata service', () => signedSubscriptionConfirmation({ SubscribeURL: 'http://169.254.169.254/latest/meta-data/iam/' })],
    ['a SubscribeURL with userinfo', () => signedSubscriptionConfirmation({ SubscribeURL: 'https://sns.us-west-2.amazonaws.com@evil.tld/?Action=ConfirmSubscription' })],
    ['a bad signature', () => ({ ...signedSubscriptionConfirmation(), Token: 'swapped' })],
    ['an untrusted certificate URL', () => signedSubscriptionConfirmation({ SigningCertURL: 'https://s3.amazonaws.com/bucket/SimpleNotificationService-x.pem' })],
  ])('W5: %s is refused with no GET', async (_name, envelope) => {
    const h = await start();
    const response = await postConfirmation(h, envelope());
    expect(response.statusCode).toBe(403);
    expect(h.confirmSubscription).not.toHaveBeenCalled();
  });

  it('a confirmation that fails is 503, so SNS sends it again', async () => {
    const h = await start({ confirmSubscription: async () => Promise.reject(new Error('socket hang up')) });
    expect((await postConfirmation(h, signedSubscriptionConfirmation())).statusCode).toBe(503);
  });

  it('acknowledges an UnsubscribeConfirmation and logs it', async () => {
    const h = await start();
    const envelope = signEnvelope({
      Type: 'UnsubscribeConfirmation',
      MessageId: '47138184-6831-46b8-8f7c-afc488602d7d',
      Token: '2336412f37',
      TopicArn: TOPIC_ARN,
      Message: 'You have chosen to deactivate subscription.',
      SubscribeURL: `https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC_ARN}&Token=2336412f37`,
      Timestamp: '2012-04-26T20:06:41.581Z',
      SigningCertURL: 'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem',
    });
    const response = await postConfirmation(h, envelope);
    expect(response.statusCode).toBe(200);
    expect(h.confirmSubscription).not.toHaveBeenCalled();
    expect(h.logs).toContainEqual(expect.objectContaining({ topicArn: TOPIC_ARN, msg: expect.stringMatching(/subscription removed/) }));
  });
});
