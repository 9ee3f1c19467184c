import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CertificateUnavailable,
  createCertificateStore,
  fetchCertificateOverHttps,
  isTrustedSigningCertUrl,
} from '../../../../src/http/webhooks/sns-certificates.js';
import { SNS_CERT_PEM, W3_CERT_URLS } from '../../../support/webhooks.js';


const NEAR_MISSES = [
  '',
  'not a url',
  'HTTPS://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem',
  'https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-x.pem',
  'https://sns.us-east-1.amazonaws.com:/SimpleNotificationService-x.pem',
  'https://@sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem',
  'https://user:pw@sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem',
  'https://sns.us-east-1.amazonaws.com./SimpleNotificationService-x.pem',
  'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem?',
  'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem?a=b',
  'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem#frag',
  'https://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem',
  'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem.evil',
  'https://sns.us-east-1.amazonaws.com/a/SimpleNotificationService-x.pem',
  'https://sns.us-east-1.amazonaws.com/./SimpleNotificationService-x.pem',
  'https://sns.us-east-1.amazonaws.com/%53impleNotificationService-x.pem',
  'https://sns.us-east-1.amazonaws.com\\SimpleNotificationService-x.pem',
  ' https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem',
  'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem\n',
  'https://sns.us-east-1.amazon\taws.com/SimpleNotificationService-x.pem',
  'https://sns.us-east-1.amazonaws.com%2eevil.tld/SimpleNotificationService-x.pem',
  'https://xn--sns-9ma.us-east-1.amazonaws.com/SimpleNotificationService-x.pem',
  'https://sns.us_east-1.amazonaws.com/SimpleNotificationService-x.pem',
  'https://sqs.us-east-1.amazonaws.com/SimpleNotificationService-x.pem',
  'https://sns.amazonaws.com/SimpleNotificationService-x.pem',
  'file:///SimpleNotificationService-x.pem',
];

describe('isTrustedSigningCertUrl', () => {
  it.each([
    'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem',
    'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem',
    'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc123.pem',
  ])('trusts %s', (url) => {
    expect(isTrustedSigningCertUrl(url)).toBe(true);
  });

  it.each(W3_CERT_URLS)('refuses W3 variant %s', (url) => {
    expect(isTrustedSigningCertUrl(url)).toBe(false);
  });

  it.each(NEAR_MISSES)('refuses near miss %j', (url) => {
    expect(isTrustedSigningCertUrl(url)).toBe(false);
  });
});

const URL_A = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem';
const URL_B = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-b.pem';
const URL_C = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-c.pem';
const now = () => new Date('2030-01-01T00:00:00Z');

describe('createCertificateStore', () => {
  it('fetches, parses and caches a certificate per URL', async () => {
    const fetchCertificate = vi.fn(async () => SNS_CERT_PEM);
    const store = createCertificateStore({ fetchCertificate, clock: now });
    const first = await store.publicKey(URL_A);
    expect(first.ok && first.value.asymmetricKeyType).toBe('rsa');
    await store.publicKey(URL_A);
    expect(fetchCertificate).toHaveBeenCalledTimes(1);
  });

  it('never fetches from a URL that fails the predicate, even if a caller forgot to check', async () => {
    const fetchCertificate = vi.fn(async () => SNS_CERT_PEM);
    const store = createCertificateStore({ fetchCertificate, clock: now });
    expect(await store.publicKey('https://evil.tld/SimpleNotificationService-a.pem')).toMatchObject({ ok: false, code: 'forbidden' });
    expect(fetchCertificate).not.toHaveBeenCalled();
  });

  it('shares one fetch among concurrent requests for the same URL', async () => {
    let release!: (pem: string) => void;
    const fetchCertificate = vi.fn(() => new Promise<string>((resolve) => (release = resolve)));
    const store = createCertificateStore({ fetchCertificate, clock: now });
    const all = Promise.all([store.publicKey(URL_A), store.publicKey(URL_A), store.publicKey(URL_A)]);
    await Promise.resolve();
    release(SNS_CERT_PEM);
    expect((await all).every((r) => r.ok)).toBe(true);
    expect(fetchCertificate).toHaveBeenCalledTimes(1);
  });

  it('evicts the least recently used URL beyond maxEntries', async () => {
    const fetchCertificate = vi.fn(async () => SNS_CERT_PEM);
    const store = createCertificateStore({ fetchCertificate, maxEntries: 2, clock: now });
    await store.publicKey(URL_A);
    await store.publicKey(URL_B);
    await store.publicKey(URL_A); // A is now the most recently used
    await store.publicKey(URL_C); // evicts B
    expect(fetchCertificate).toHaveBeenCalledTimes(3);
    await store.publicKey(URL_A);
    expect(fetchCertificate).toHaveBeenCalledTimes(3);
    await store.publicKey(URL_B);
    expect(fetchCertificate).toHaveBeenCalledTimes(4);
  });

  it('reports a failed fetch as temporary and does not cache it', async () => {
    const fetchCertificate = vi.fn().mockRejectedValueOnce(new Error('ECONNRESET')).mockResolvedValue(SNS_CERT_PEM);
    const store = createCertificateStore({ fetchCertificate, clock: now });
    expect(await store.publicKey(URL_A)).toMatchObject({ ok: false, code: 'temporary' });
    expect(await store.publicKey(URL_A)).toMatchObject({ ok: true });
  });

  it('times out a fetch that never answers (temporary) and aborts it', async () => {
    let signal: AbortSignal | undefined;
    const fetchCertificate = vi.fn((_url: string, options: { signal: AbortSignal }) => {
      signal = options.signal;
      return new Promise<string>(() => {});
    });
    const store = createCertificateStore({ fetchCertificate, timeoutMs: 20, clock: now });
    expect(await store.publicKey(URL_A)).toMatchObject({ ok: false, code: 'temporary' });
    expect(signal?.aborted).toBe(true);
  });

  it('refuses (not temporary) a certificate that is unavailable, oversized, garbage, expired or not yet valid', async () => {
    const unavailable = createCertificateStore({ fetchCertificate: async () => Promise.reject(new CertificateUnavailable('HTTP 404')), clock: now });
    expect(await unavailable.publicKey(URL_A)).toMatchObject({ ok: false, code: 'forbidden' });
    const oversized = createCertificateStore({ fetchCertificate: async () => SNS_CERT_PEM + ' '.repeat(20_000), clock: now });
    expect(await oversized.publicKey(URL_A)).toMatchObject({ ok: false, code: 'forbidden' });
    const garbage = createCertificateStore({ fetchCertificate: async () => '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n', clock: now });
    expect(await garbage.publicKey(URL_A)).toMatchObject({ ok: false, code: 'forbidden' });
    const expired = createCertificateStore({ fetchCertificate: async () => SNS_CERT_PEM, clock: () => new Date('2200-01-01T00:00:00Z') });
    expect(await expired.publicKey(URL_A)).toMatchObject({ ok: false, code: 'forbidden', reason: expect.stringMatching(/expired/) });
    const early = createCertificateStore({ fetchCertificate: async () => SNS_CERT_PEM, clock: () => new Date('1999-12-31T23:59:59Z') });
    expect(await early.publicKey(URL_A)).toMatchObject({ ok: false, code: 'forbidden' });
  });

  it('re-checks validity of a cached certificate on every use', async () => {
    let at = now();
    const store = createCertificateStore({ fetchCertificate: async () => SNS_CERT_PEM, clock: () => at });
    expect(await store.publicKey(URL_A)).toMatchObject({ ok: true });
    at = new Date('2200-01-01T00:00:00Z');
    expect(await store.publicKey(URL_A)).toMatchObject({ ok: false, code: 'forbidden' });
  });
});

describe('fetchCertificateOverHttps (the transport, against a local server)', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/cert.pem') return response.end(SNS_CERT_PEM);
      if (request.url === '/huge.pem') {
        // Streams far more than the cap: the reader must stop early, not buffer it all.
        response.write('x'.repeat(64 * 1024));
        response.write('x'.repeat(64 * 1024));
        return response.end();
      }
      if (request.url === '/error.pem') {
        response.statusCode = 502;
        return response.end('bad gateway');
      }
      response.statusCode = 404;
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const options = () => ({ signal: new AbortController().signal, maxBytes: 16_384 });

  it('returns the body', async () => {
    expect(await fetchCertificateOverHttps(`${base}/cert.pem`, options())).toBe(SNS_CERT_PEM);
  });
  it('stops reading past the cap (unavailable, not temporary)', async () => {
    await expect(fetchCertificateOverHttps(`${base}/huge.pem`, options())).rejects.toBeInstanceOf(CertificateUnavailable);
  });
  it('treats 4xx as unavailable and 5xx as a temporary failure', async () => {
    await expect(fetchCertificateOverHttps(`${base}/missing.pem`, options())).rejects.toBeInstanceOf(CertificateUnavailable);
    const error = await fetchCertificateOverHttps(`${base}/error.pem`, options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(CertificateUnavailable);
  });
});
