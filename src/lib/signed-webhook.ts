import { createHmac } from 'node:crypto';

/**
 * Our webhook signature, one recipe both ways: the generic feedback webhook verifies it on what
 * providers send us, and the alert webhook signs what we send to pagers with it (README,
 * "Generic feedback webhook" and "Paging"). HMAC-SHA256 over `<timestamp>.<raw body>`,
 * Stripe-style: the timestamp is signed, so a captured request can only be replayed inside the
 * receiver's tolerance, where the event id makes the replay a no-op.
 */
export const TIMESTAMP_HEADER = 'x-campaign-guard-timestamp';
export const SIGNATURE_HEADER = 'x-campaign-guard-signature';

export function signGenericBody(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}
