import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Slack's request signing (v0): HMAC-SHA256 over `v0:<timestamp>:<raw body>` with the signing
 * secret, compared in constant time, over the exact bytes received (never a re-encoded form).
 * The timestamp must be within five minutes of now, in either direction.
 */
export const MAX_SKEW_SECONDS = 300;

export type SignatureVerdict = { ok: true } | { ok: false; why: string };

export function slackSignature(secret: string, timestamp: number | string, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}

export function verifySlackSignature(input: {
  secret: string;
  signature: unknown;
  timestamp: unknown;
  rawBody: Buffer;
  nowSeconds: number;
}): SignatureVerdict {
  const { signature, timestamp } = input;
  if (typeof signature !== 'string' || typeof timestamp !== 'string') return { ok: false, why: 'missing or repeated signature headers' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, why: 'malformed timestamp' };
  const ts = Number(timestamp);
  if (Math.abs(input.nowSeconds - ts) > MAX_SKEW_SECONDS) return { ok: false, why: 'stale timestamp' };
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, why: 'malformed signature' };
  const expected = Buffer.from(slackSignature(input.secret, timestamp, input.rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, why: 'signature mismatch' };
  return { ok: true };
}
