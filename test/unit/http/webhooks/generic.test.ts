import { describe, expect, it } from 'vitest';
import { MAX_EVENTS, parseGenericEvents, signGenericBody, verifyGenericSignature } from '../../../../src/http/webhooks/generic.js';

const SECRET = 's3cret-s3cret-s3cret-s3cret-s3cret-0001';
const NOW = new Date('2030-01-01T00:00:00Z');
const nowSeconds = String(NOW.getTime() / 1000);

const body = Buffer.from(
  JSON.stringify({
    events: [
      { id: 'evt-1', type: 'bounce', bounceType: 'hard', messageId: '<cg.dep_0123456789.12@example.com>', recipient: 'A@B.C', occurredAt: '2030-01-01T00:00:00Z', detail: '550 no such user' },
      { id: 'evt-2', type: 'complaint', deliveryTag: 'dep_0123456789.13' },
      { id: 'evt-3', type: 'deferral', deliveryTag: 'dep_0123456789.14' },
      { id: 'evt-4', type: 'delivery', deliveryTag: 'dep_0123456789.15', occurredAt: '2030-01-01T01:00:00+01:00' },
    ],
  }),
);

const check = (headers: { signature?: string | string[]; timestamp?: string }, raw = body, now = NOW) =>
  verifyGenericSignature(SECRET, { signature: headers.signature, timestamp: headers.timestamp }, raw, now);

describe('verifyGenericSignature', () => {
  const signature = signGenericBody(SECRET, nowSeconds, body);

  it('accepts a good signature, within the tolerance either side', () => {
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(check({ signature, timestamp: nowSeconds })).toEqual({ ok: true, value: undefined });
    expect(check({ signature, timestamp: nowSeconds }, body, new Date(NOW.getTime() + 299_000))).toMatchObject({ ok: true });
    expect(check({ signature, timestamp: nowSeconds }, body, new Date(NOW.getTime() - 299_000))).toMatchObject({ ok: true });
  });

  it('accepts any of several v1 signatures (secret rotation)', () => {
    const old = signGenericBody('an-old-secret-an-old-secret-an-old-secret', nowSeconds, body);
    expect(check({ signature: `${old}, ${signature}`, timestamp: nowSeconds })).toMatchObject({ ok: true });
  });

  it.each([
    ['a wrong secret', () => ({ signature: signGenericBody('wrong-secret-wrong-secret-wrong-secret', nowSeconds, body), timestamp: nowSeconds })],
    ['a stale timestamp (301 s)', () => ({ signature: signGenericBody(SECRET, String(Number(nowSeconds) - 301), body), timestamp: String(Number(nowSeconds) - 301) })],
    ['a future timestamp (301 s)', () => ({ signature: signGenericBody(SECRET, String(Number(nowSeconds) + 301), body), timestamp: String(Number(nowSeconds) + 301) })],
    ['a timestamp that is not the signed one', () => ({ signature, timestamp: String(Number(nowSeconds) + 1) })],
    ['a timestamp that is not unix seconds', () => ({ signature: signGenericBody(SECRET, '1.5e9', body), timestamp: '1.5e9' })],
    ['no signature', () => ({ timestamp: nowSeconds })],
    ['no timestamp', () => ({ signature })],
    ['upper-case hex', () => ({ signature: `v1=${signature.slice(3).toUpperCase()}`, timestamp: nowSeconds })],
    ['a v0 prefix', () => ({ signature: signature.replace('v1=', 'v0='), timestamp: nowSeconds })],
    ['a doubled header', () => ({ signature: [signature, signature], timestamp: nowSeconds })],
  ])('refuses %s', (_name, headers) => {
    expect(check(headers())).toMatchObject({ ok: false, code: 'forbidden' });
  });

  it('refuses a body changed by one byte, or by a trailing newline', () => {
    const changed = Buffer.from(body);
    changed[20] = changed[20]! ^ 1;
    expect(check({ signature, timestamp: nowSeconds }, changed)).toMatchObject({ ok: false });
    expect(check({ signature, timestamp: nowSeconds }, Buffer.concat([body, Buffer.from('\n')]))).toMatchObject({ ok: false });
  });
});

describe('parseGenericEvents', () => {
  it('maps each event, with the sender’s id as the event id', () => {
    const result = parseGenericEvents(body);
    expect(result).toMatchObject({ ok: true });
    const events = result.ok ? result.value.events : [];
    expect(events).toEqual([
      {
        provider: 'generic',
        eventId: 'evt-1',
        kind: 'bounce',
        bounceClass: 'hard',
        countsTowardRate: true,
        recipient: 'a@b.c',
        messageId: '<cg.dep_0123456789.12@example.com>',
        occurredAt: NOW,
        detail: '550 no such user',
      },
      { provider: 'generic', eventId: 'evt-2', kind: 'complaint', countsTowardRate: true, deliveryTag: 'dep_0123456789.13' },
      { provider: 'generic', eventId: 'evt-3', kind: 'deferral', countsTowardRate: false, deliveryTag: 'dep_0123456789.14' },
      { provider: 'generic', eventId: 'evt-4', kind: 'delivery', countsTowardRate: true, deliveryTag: 'dep_0123456789.15', occurredAt: NOW },
    ]);
  });

  it('accepts an empty batch', () => {
    expect(parseGenericEvents(Buffer.from('{"events":[]}'))).toEqual({ ok: true, value: { events: [], quarantined: [] } });
  });

  it.each([
    ['not JSON', 'nope'],
    ['an array', '[]'],
    ['no events', '{}'],
    ['an event without id', '{"events":[{"type":"complaint","deliveryTag":"dep_0123456789.1"}]}'],
    ['an unknown type', '{"events":[{"id":"1","type":"open","deliveryTag":"dep_0123456789.1"}]}'],
    ['neither messageId nor deliveryTag', '{"events":[{"id":"1","type":"complaint","recipient":"a@b.c"}]}'],
    ['a bounce without bounceType', '{"events":[{"id":"1","type":"bounce","deliveryTag":"dep_0123456789.1"}]}'],
    ['a bad bounceType', '{"events":[{"id":"1","type":"bounce","bounceType":"medium","deliveryTag":"dep_0123456789.1"}]}'],
    ['a bad occurredAt', '{"events":[{"id":"1","type":"complaint","deliveryTag":"dep_0123456789.1","occurredAt":"yesterday"}]}'],
    ['a recipient that is not an address', '{"events":[{"id":"1","type":"complaint","deliveryTag":"dep_0123456789.1","recipient":"nobody"}]}'],
  ])('refuses %s as malformed', (_name, text) => {
    expect(parseGenericEvents(Buffer.from(text))).toMatchObject({ ok: false, code: 'malformed' });
  });

  it(`refuses more than ${MAX_EVENTS} events`, () => {
    const events = Array.from({ length: MAX_EVENTS + 1 }, (_, i) => ({ id: String(i), type: 'delivery', deliveryTag: 'dep_0123456789.1' }));
    expect(parseGenericEvents(Buffer.from(JSON.stringify({ events })))).toMatchObject({ ok: false, code: 'malformed' });
    expect(parseGenericEvents(Buffer.from(JSON.stringify({ events: events.slice(1) })))).toMatchObject({ ok: true });
  });
});
