import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { createSubscriptionConfirmer, parseSnsEnvelope, snsStringToSign, subscribeUrlOf, verifySnsDelivery, type SnsEnvelope } from '../../../../src/http/webhooks/sns.js';
import { createCertificateStore } from '../../../../src/http/webhooks/sns-certificates.js';
import { SNS_CERT_PEM, signedNotification, signedSubscriptionConfirmation, TOPIC_ARN, W3_CERT_URLS } from '../../../support/webhooks.js';

function verifier(topicArns = [TOPIC_ARN]) {
  const fetchCertificate = vi.fn(async () => SNS_CERT_PEM);
  return { fetchCertificate, verifier: { topicArns, certificates: createCertificateStore({ fetchCertificate }) } };
}

const deliver = (envelope: unknown, v = verifier().verifier, rawDeliveryHeader?: string) =>
  verifySnsDelivery({ body: JSON.stringify(envelope), rawDeliveryHeader }, v);

describe('snsStringToSign', () => {
  it('signs Notification fields in byte order, Subject only when present', () => {
    const base = { Type: 'Notification', MessageId: 'm', TopicArn: 't', Message: 'a\nb', Timestamp: 'ts' } as SnsEnvelope;
    expect(snsStringToSign(base)).toBe('Message\na\nb\nMessageId\nm\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n');
    expect(snsStringToSign({ ...base, Subject: 's' })).toBe('Message\na\nb\nMessageId\nm\nSubject\ns\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n');
  });

  it('signs SubscribeURL and Token for confirmations', () => {
    const env = { Type: 'SubscriptionConfirmation', MessageId: 'm', TopicArn: 't', Message: 'x', Timestamp: 'ts', SubscribeURL: 'u', Token: 'k' } as SnsEnvelope;
    expect(snsStringToSign(env)).toBe('Message\nx\nMessageId\nm\nSubscribeURL\nu\nTimestamp\nts\nToken\nk\nTopicArn\nt\nType\nSubscriptionConfirmation\n');
  });
});

describe('verifySnsDelivery', () => {
  it.each(['1', '2'] as const)('accepts a message signed with SignatureVersion %s', async (version) => {
    expect(await deliver(signedNotification('{"x":1}', {}, version))).toMatchObject({ ok: true, value: { Message: '{"x":1}' } });
  });

  it('restores escaped control characters before verifying (JSON.parse does it)', async () => {
    const envelope = signedNotification('line one\nline "two"\t\u0001');
    expect(JSON.stringify(envelope)).toContain('\\n');
    expect(await deliver(envelope)).toMatchObject({ ok: true });
  });

  it('refuses a message whose signed fields were changed', async () => {
    const envelope = { ...signedNotification('{"x":1}'), Message: '{"x":2}' };
    expect(await deliver(envelope)).toMatchObject({ ok: false, code: 'forbidden', reason: 'signature does not verify' });
  });

  it('refuses a v1 signature presented as v2', async () => {
    const envelope = { ...signedNotification('{}', {}, '1'), SignatureVersion: '2' };
    expect(await deliver(envelope)).toMatchObject({ ok: false, code: 'forbidden' });
  });

  it.each([
    ['SignatureVersion "3"', { SignatureVersion: '3' }],
    ['SignatureVersion missing', { SignatureVersion: undefined }],
    ['SignatureVersion as a number', { SignatureVersion: 2 }],
    ['Signature missing', { Signature: undefined }],
    ['Signature empty', { Signature: '' }],
    ['Signature not base64', { Signature: 'not base64!!' }],
    ['Signature base64 of the wrong length', { Signature: 'AAAA' }],
  ])('W2: refuses %s with 403', async (_name, override) => {
    const { verifier: v } = verifier();
    const result = await deliver({ ...signedNotification('{}'), ...override }, v);
    expect(result).toMatchObject({ ok: false });
    // A number where a string belongs is a malformed body; everything else is unverifiable.
    expect(result.ok ? undefined : result.code).toBe(typeof (override as { SignatureVersion?: unknown }).SignatureVersion === 'number' ? 'malformed' : 'forbidden');
  });

  it.each(W3_CERT_URLS)('W3: refuses SigningCertURL %s without fetching', async (url) => {
    const { verifier: v, fetchCertificate } = verifier();
    expect(await deliver(signedNotification('{}', { SigningCertURL: url }), v)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(fetchCertificate).not.toHaveBeenCalled();
  });

  it('W1: refuses a topic not on the allowlist, before fetching the certificate', async () => {
    const { verifier: v, fetchCertificate } = verifier();
    const other = 'arn:aws:sns:us-west-2:999999999999:someone-else';
    expect(await deliver(signedNotification('{}', { TopicArn: other }), v)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(await deliver(signedNotification('{}', { TopicArn: undefined }), v)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(fetchCertificate).not.toHaveBeenCalled();
  });

  it('W4: refuses raw message delivery before anything else', async () => {
    const { verifier: v, fetchCertificate } = verifier();
    expect(await deliver(signedNotification('{}'), v, 'true')).toMatchObject({ ok: false, code: 'forbidden' });
    expect(await verifySnsDelivery({ body: '{"bounce":{}}', rawDeliveryHeader: 'True' }, v)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(fetchCertificate).not.toHaveBeenCalled();
  });

  it('reports a certificate fetch failure as temporary', async () => {
    const certificates = createCertificateStore({ fetchCertificate: async () => Promise.reject(new Error('ETIMEDOUT')) });
    expect(await deliver(signedNotification('{}'), { topicArns: [TOPIC_ARN], certificates })).toMatchObject({ ok: false, code: 'temporary' });
  });

  it.each([
    ['not JSON', 'Hello'],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['an unknown Type', JSON.stringify({ ...signedNotification('{}'), Type: 'Gossip' })],
    ['no MessageId', JSON.stringify({ ...signedNotification('{}'), MessageId: undefined })],
    ['no Message', JSON.stringify({ ...signedNotification('{}'), Message: undefined })],
  ])('reports a body that is %s as malformed', async (_name, body) => {
    expect(await verifySnsDelivery({ body, rawDeliveryHeader: undefined }, verifier().verifier)).toMatchObject({ ok: false, code: 'malformed' });
  });

  it('parses the official envelope shape, ignoring unknown fields', () => {
    const parsed = parseSnsEnvelope(JSON.stringify({ ...signedNotification('Hello world!'), SomethingNew: { a: 1 } }));
    expect(parsed).toMatchObject({ ok: true, value: { Type: 'Notification', Message: 'Hello world!' } });
  });
});

describe('subscribeUrlOf', () => {
  const confirmation = (SubscribeURL: string | undefined) => signedSubscriptionConfirmation({ SubscribeURL }) as unknown as SnsEnvelope;

  it('accepts the SNS ConfirmSubscription URL', () => {
    const url = `https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC_ARN}&Token=abc`;
    expect(subscribeUrlOf(confirmation(url))).toEqual({ ok: true, value: url });
  });

  it.each([
    'https://evil.tld/?Action=ConfirmSubscription',
    'http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription',
    'https://sns.us-west-2.amazonaws.com.evil.tld/?Action=ConfirmSubscription',
    'https://sns.us-west-2.amazonaws.com@evil.tld/?Action=ConfirmSubscription',
    'https://sns.us-west-2.amazonaws.com:8443/?Action=ConfirmSubscription',
    'https://SNS.us-west-2.amazonaws.com/?Action=ConfirmSubscription',
    'https://169.254.169.254/latest/meta-data/',
    'https://localhost/?Action=ConfirmSubscription',
    'https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x',
    'https://sns.us-west-2.amazonaws.com/other/?Action=ConfirmSubscription',
    'https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription#x',
  ])('W5: refuses SubscribeURL %s', (url) => {
    expect(subscribeUrlOf(confirmation(url))).toMatchObject({ ok: false, code: 'forbidden' });
  });
});

describe('createSubscriptionConfirmer (against a local server)', () => {
  it('GETs the URL once, without following redirects, and throws on a non-2xx answer', async () => {
    const seen: string[] = [];
    const server = createServer((request, response) => {
      seen.push(`${request.method} ${request.url}`);
      if (request.url?.startsWith('/redirect')) {
        response.writeHead(302, { location: '/elsewhere' });
        return response.end();
      }
      response.statusCode = request.url?.startsWith('/ok') ? 200 : 500;
      response.end('<ConfirmSubscriptionResponse/>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const confirm = createSubscriptionConfirmer({ timeoutMs: 2000 });
      await confirm(`${base}/ok?Action=ConfirmSubscription`);
      await expect(confirm(`${base}/fail`)).rejects.toThrow(/HTTP 500/);
      await expect(confirm(`${base}/redirect`)).rejects.toThrow();
      expect(seen).toEqual(['GET /ok?Action=ConfirmSubscription', 'GET /fail', 'GET /redirect']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
