import { X509Certificate, type KeyObject } from 'node:crypto';
import { ok, refused } from '../../domain/result.js';
import type { WebhookResult } from './refusal.js';

/**
 * SNS signs each message with a certificate it names by URL inside the message itself, so the URL
 * is attacker-controlled until proven otherwise. Real forgeries came from predicates that trusted
 * S3 or a prefix match (Novu 2026, the DEF CON 30 SigningCertURL talk). The predicate below is the
 * reference's recommended one, checked on the parsed URL *and* on the raw text: WHATWG parsing
 * lower-cases hosts and resolves `/../`, and we refuse anything that needed normalising.
 */
const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;
const SNS_CERT_PATH = /^\/SimpleNotificationService-[A-Za-z0-9]+\.pem$/;

/** The parsed URL when it is an https URL on an SNS host with no userinfo and no port. */
export function parseSnsHostUrl(raw: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.port !== '') return undefined;
  if (!SNS_HOST.test(url.hostname)) return undefined;
  // The raw authority must be exactly the host: no upper case, no percent-encoding, no trailing
  // dot, no empty userinfo `@` or empty port `:` that WHATWG would silently drop.
  if (!raw.startsWith(`https://${url.hostname}/`)) return undefined;
  return url;
}

export function isTrustedSigningCertUrl(raw: string): boolean {
  const url = parseSnsHostUrl(raw);
  if (!url) return false;
  if (!SNS_CERT_PATH.test(url.pathname) || url.search !== '' || url.hash !== '') return false;
  // Same bytes in, same bytes out: nothing was resolved (`/../`), decoded, trimmed or stripped,
  // and no empty `?` or `#` (which WHATWG keeps in href while reporting search and hash as '').
  return `${url.origin}${url.pathname}` === raw;
}

/** Fetches the PEM text; must honour `signal` and may stop reading past `maxBytes`. */
export type CertificateFetcher = (url: string, options: { signal: AbortSignal; maxBytes: number }) => Promise<string>;

export interface CertificateStore {
  /**
   * The public key of the certificate at `url` (which must already have passed
   * `isTrustedSigningCertUrl`). `forbidden`: the certificate is unusable. `temporary`: it could
   * not be fetched now; the caller should ask the provider to retry.
   */
  publicKey(url: string): Promise<WebhookResult<KeyObject>>;
}

export interface CertificateStoreOptions {
  fetchCertificate?: CertificateFetcher;
  timeoutMs?: number;
  maxBytes?: number;
  maxEntries?: number;
  clock?: () => Date;
}

/** Thrown by a fetcher for an answer that will not change on retry (a 404, an oversized body). */
export class CertificateUnavailable extends Error {
  override name = 'CertificateUnavailable';
}

export function createCertificateStore(options: CertificateStoreOptions = {}): CertificateStore {
  const fetchCertificate = options.fetchCertificate ?? fetchCertificateOverHttps;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxBytes ?? 16_384;
  const maxEntries = options.maxEntries ?? 100;
  const clock = options.clock ?? (() => new Date());

  // Least recently used first (a Map iterates in insertion order; a hit re-inserts).
  const cache = new Map<string, X509Certificate>();
  const inFlight = new Map<string, Promise<WebhookResult<X509Certificate>>>();

  function remember(url: string, certificate: X509Certificate) {
    cache.delete(url);
    cache.set(url, certificate);
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  }

  async function load(url: string): Promise<WebhookResult<X509Certificate>> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let pem: string;
    try {
      pem = await Promise.race([
        fetchCertificate(url, { signal: controller.signal, maxBytes }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            controller.abort();
            reject(new Error(`no answer within ${timeoutMs} ms`));
          }, timeoutMs);
        }),
      ]);
    } catch (error) {
      if (error instanceof CertificateUnavailable) return refused('forbidden', `signing certificate unavailable: ${error.message}`);
      return refused('temporary', `signing certificate could not be fetched: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    if (Buffer.byteLength(pem) > maxBytes) return refused('forbidden', `signing certificate is larger than ${maxBytes} bytes`);
    try {
      return ok(new X509Certificate(pem));
    } catch {
      return refused('forbidden', 'signing certificate is not a valid X.509 certificate');
    }
  }

  // X509Certificate's getters parse on every access; a busy SNS subscription verifies thousands of
  // messages a second with one certificate, so its key and dates are derived once.
  const derived = new WeakMap<X509Certificate, { key: KeyObject; from: number; to: number }>();
  function facts(certificate: X509Certificate) {
    let found = derived.get(certificate);
    if (!found) {
      found = { key: certificate.publicKey, from: new Date(certificate.validFrom).getTime(), to: new Date(certificate.validTo).getTime() };
      derived.set(certificate, found);
    }
    return found;
  }
  const keyOf = (certificate: X509Certificate) => facts(certificate).key;

  function currentlyValid(certificate: X509Certificate): boolean {
    const now = clock().getTime();
    const { from, to } = facts(certificate);
    return from <= now && now <= to;
  }

  async function certificate(url: string): Promise<WebhookResult<X509Certificate>> {
    const cached = cache.get(url);
    if (cached) {
      remember(url, cached);
      return ok(cached);
    }
    // Concurrent deliveries signed by one new certificate share a single fetch.
    let pending = inFlight.get(url);
    if (!pending) {
      pending = load(url).finally(() => inFlight.delete(url));
      inFlight.set(url, pending);
    }
    const result = await pending;
    // Only good certificates are cached: a failed fetch must be retried next time.
    if (result.ok) remember(url, result.value);
    return result;
  }

  return {
    async publicKey(url) {
      // The caller checks first (to refuse before anything else); checked again here so that no
      // future caller can make this store fetch from anywhere but SNS.
      if (!isTrustedSigningCertUrl(url)) return refused('forbidden', 'SigningCertURL is not an Amazon SNS certificate URL');
      const result = await certificate(url);
      if (!result.ok) return result;
      // Checked on every use, not only on fetch: a cached certificate can expire.
      if (!currentlyValid(result.value)) return refused('forbidden', 'signing certificate is expired or not yet valid');
      return ok(keyOf(result.value));
    },
  };
}

/** The production fetcher: HTTPS GET, no redirects, reading stops once `maxBytes` is exceeded. */
export async function fetchCertificateOverHttps(url: string, options: { signal: AbortSignal; maxBytes: number }): Promise<string> {
  const response = await fetch(url, { signal: options.signal, redirect: 'error' });
  if (response.status >= 400 && response.status < 500) throw new CertificateUnavailable(`HTTP ${response.status}`);
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > options.maxBytes) {
      await reader.cancel();
      throw new CertificateUnavailable(`larger than ${options.maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
