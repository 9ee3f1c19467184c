import { generateKeyPairSync, sign } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { signGenericBody } from '../../../../src/http/webhooks/generic.js';
import { fixture, SENDGRID_VECTORS } from '../../../support/webhooks.js';
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

// Our own P-256 pair, to sign bodies SendGrid never sent (the vectors cover SendGrid's real ones).
const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const OUR_SENDGRID_KEY = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');

function sendgridRequest(body: string | Buffer, timestamp = '1700000000') {
  const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), { key: privateKey, dsaEncoding: 'der' }).toString('base64');
  return {
    method: 'POST' as const,
    url: '/webhooks/sendgrid',
    headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp },
    payload: body,
  };
}

const vectorRequest = (vector: (typeof SENDGRID_VECTORS)['single' | 'two'], body: string | Buffer = vector.body) => ({
  method: 'POST' as const,
  url: '/webhooks/sendgrid',
  headers: {
    'content-type': 'application/json',
    'x-twilio-email-event-webhook-signature': vector.signature,
    'x-twilio-email-event-webhook-timestamp': vector.timestamp,
  },
  payload: Buffer.from(body),
});

describe('POST /webhooks/sendgrid', () => {
  it.each([
    ['single', [['bounce', 'dropped', false]]],
    ['two', [['other', 'processed', false], ['bounce', 'blocked', true]]],
  ] as const)('SendGrid’s signed %s vector verifies and reaches ingest', async (name, expected) => {
    const vector = SENDGRID_VECTORS[name];
    const h = await start({ config: { sendgridPublicKey: vector.publicKey } });
    const response = await h.server.inject(vectorRequest(vector));
    expect(response.statusCode).toBe(200);
    expect(events(h.ingested).map((e) => [e.kind, e.subtype, e.countsTowardRate])).toEqual(expected);
  });

  it('the wrong public key, one changed byte and a re-serialised body (W12) are 403', async () => {
    const wrongKey = await start({ config: { sendgridPublicKey: SENDGRID_VECTORS.wrongPublicKey } });
    expect((await wrongKey.server.inject(vectorRequest(SENDGRID_VECTORS.single))).statusCode).toBe(403);
    await wrongKey.server.close();

    const h = await start({ config: { sendgridPublicKey: SENDGRID_VECTORS.single.publicKey } });
    const changed = Buffer.from(SENDGRID_VECTORS.single.body);
    changed[changed.length - 3] = changed[changed.length - 3]! ^ 1;
    expect((await h.server.inject(vectorRequest(SENDGRID_VECTORS.single, changed))).statusCode).toBe(403);
    const reserialised = JSON.stringify(JSON.parse(SENDGRID_VECTORS.single.body));
    expect((await h.server.inject(vectorRequest(SENDGRID_VECTORS.single, reserialised))).statusCode).toBe(403);
    const { headers, ...rest } = vectorRequest(SENDGRID_VECTORS.single);
    expect((await h.server.inject({ ...rest, headers: { 'content-type': headers['content-type'] } })).statusCode).toBe(403);
    expect(h.ingest).not.toHaveBeenCalled();
    expect(h.logs.filter((l) => l.status === 403)).toHaveLength(3);
  });

  it.each(['bounce', 'blocked', 'dropped', 'deferred'])('the official %s sample parses through the route', async (name) => {
    const h = await start({ config: { sendgridPublicKey: OUR_SENDGRID_KEY } });
    expect((await h.server.inject(sendgridRequest(fixture(`sendgrid/${name}.json`)))).statusCode).toBe(200);
    expect(events(h.ingested)).toHaveLength(1);
  });

  it('W13: [] is 200 without an ingest call; {}, non-array and non-JSON are 400', async () => {
    const h = await start({ config: { sendgridPublicKey: OUR_SENDGRID_KEY } });
    const empty = await h.server.inject(sendgridRequest('[]'));
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual({ received: 0, quarantined: 0 });
    for (const body of ['{}', '"x"', 'not json']) {
      expect((await h.server.inject(sendgridRequest(body))).statusCode).toBe(400);
    }
    expect(h.ingest).not.toHaveBeenCalled();
  });

  it('W14: a duplicate post gives the same event ids, with or without sg_event_id', async () => {
    const h = await start({ config: { sendgridPublicKey: OUR_SENDGRID_KEY } });
    const body = JSON.stringify([
      { event: 'bounce', email: 'a@b.c', sg_event_id: 'abc' },
      { event: 'spamreport', email: 'a@b.c', timestamp: 1, category: 'x' },
    ]);
    await h.server.inject(sendgridRequest(body, '1700000000'));
    await h.server.inject(sendgridRequest(body, '1700000060'));
    const [first, second] = h.ingested;
    expect(second!.events.map((e) => e.eventId)).toEqual(first!.events.map((e) => e.eventId));
  });

  it('accepts a 2 MB batch of 10,000 events; a 5 MB body is 413 and /healthz still answers', async () => {
    const h = await start({ config: { sendgridPublicKey: OUR_SENDGRID_KEY } });
    const batch = JSON.stringify(
      Array.from({ length: 10_000 }, (_, i) => ({ event: 'delivered', email: `user${i}@example.com`, sg_event_id: `id-${i}`, response: '250 OK'.padEnd(150, ' ') })),
    );
    expect(batch.length).toBeGreaterThan(2 * 1024 * 1024);
    const big = await h.server.inject(sendgridRequest(batch));
    expect(big.statusCode).toBe(200);
    expect(big.json()).toEqual({ received: 10_000, quarantined: 0 });

    const huge = await h.server.inject(sendgridRequest('x'.repeat(5 * 1024 * 1024)));
    expect(huge.statusCode).toBe(413);
    expect((await h.server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('W15: ingest throwing is 503', async () => {
    const h = await start({ config: { sendgridPublicKey: OUR_SENDGRID_KEY }, ingest: async () => Promise.reject(new Error('db down')) });
    expect((await h.server.inject(sendgridRequest(fixture('sendgrid/bounce.json')))).statusCode).toBe(503);
  });

  it('is 404 with a hint when SENDGRID_WEBHOOK_PUBLIC_KEY is unset', async () => {
    const h = await start();
    const response = await h.server.inject(sendgridRequest('[]'));
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'SendGrid webhook not configured: set SENDGRID_WEBHOOK_PUBLIC_KEY' });
  });
});

describe('POST /webhooks/events (generic)', () => {
  const SECRET = 'generic-secret-generic-secret-generic-secret';
  const NOW = new Date('2030-01-01T00:00:00Z');
  const clock = () => NOW;
  const nowSeconds = String(NOW.getTime() / 1000);
  const body = JSON.stringify({ events: [{ id: 'evt-1', type: 'bounce', bounceType: 'soft', deliveryTag: 'dep_0123456789.3', recipient: 'a@b.c' }] });

  const request = (payload: string | Buffer, options: { secret?: string; timestamp?: string; signature?: string } = {}) => {
    const timestamp = options.timestamp ?? nowSeconds;
    return {
      method: 'POST' as const,
      url: '/webhooks/events',
      headers: {
        'content-type': 'application/json',
        'x-campaign-guard-timestamp': timestamp,
        'x-campaign-guard-signature': options.signature ?? signGenericBody(options.secret ?? SECRET, timestamp, payload),
      },
      payload,
    };
  };

  it('accepts a good signature and hands the events to ingest', async () => {
    const h = await start({ config: { eventsSecret: SECRET }, clock });
    const response = await h.server.inject(request(body));
    expect(response.statusCode).toBe(200);
    expect(events(h.ingested)).toEqual([expect.objectContaining({ provider: 'generic', eventId: 'evt-1', kind: 'bounce', bounceClass: 'soft', deliveryTag: 'dep_0123456789.3' })]);
  });

  it('refuses a wrong secret, a stale timestamp and a changed byte with 403, never logging the secret', async () => {
    const h = await start({ config: { eventsSecret: SECRET }, clock });
    expect((await h.server.inject(request(body, { secret: 'another-secret-another-secret-another' }))).statusCode).toBe(403);
    const stale = String(Number(nowSeconds) - 301);
    expect((await h.server.inject(request(body, { timestamp: stale }))).statusCode).toBe(403);
    const signature = signGenericBody(SECRET, nowSeconds, body);
    expect((await h.server.inject(request(body.replace('soft', 'hard'), { signature }))).statusCode).toBe(403);
    expect(h.ingest).not.toHaveBeenCalled();
    expect(JSON.stringify(h.logs)).not.toContain(SECRET);
    expect(h.logs.filter((l) => l.level === 40 && l.webhook === 'generic')).toHaveLength(3);
  });

  it('a signed body with a bad schema is 400', async () => {
    const h = await start({ config: { eventsSecret: SECRET }, clock });
    const bad = JSON.stringify({ events: [{ id: 'x', type: 'bounce', deliveryTag: 'dep_0123456789.3' }] });
    const response = await h.server.inject(request(bad));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: expect.stringMatching(/bounceType/) });
  });

  it('ingest throwing is 503; unset secret is 404; over 1 MB is 413', async () => {
    const failing = await start({ config: { eventsSecret: SECRET }, clock, ingest: async () => Promise.reject(new Error('db down')) });
    expect((await failing.server.inject(request(body))).statusCode).toBe(503);
    await failing.server.close();
    const off = await start({ clock });
    expect((await off.server.inject(request(body))).json()).toEqual({ error: 'events webhook not configured: set EVENTS_WEBHOOK_SECRET' });
    await off.server.close();
    const h = await start({ config: { eventsSecret: SECRET }, clock });
    expect((await h.server.inject(request('x'.repeat(1024 * 1024 + 1)))).statusCode).toBe(413);
  });
});

describe('over a real socket', () => {
  it('a chunked 5 MB upload (no Content-Length) to /webhooks/sendgrid is 413, and the server keeps serving', async () => {
    const h = await start({ config: { sendgridPublicKey: OUR_SENDGRID_KEY } });
    const address = await h.server.listen({ port: 0, host: '127.0.0.1' });
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${address}/webhooks/sendgrid`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      // The server may close the connection as soon as the cap is passed: that is the point.
      request.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 5 * 1024 * 1024) {
          sent += chunk.length;
          if (!request.write(chunk)) return request.once('drain', pump);
        }
        request.end();
      };
      pump();
    });
    expect(status).toBe(413);
    const health = await fetch(`${address}/healthz`);
    expect(health.status).toBe(200);
  });
});
