import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { FeedbackEvent, ParsedFeedback } from '../../domain/feedback.js';
import { ok, refused } from '../../domain/result.js';
import { signGenericBody } from '../../lib/signed-webhook.js';
import { boundedDetail, type WebhookResult } from './refusal.js';

/**
 * Our own signed feedback format, for providers we have no adapter for (documented in README,
 * "Generic feedback webhook"). HMAC-SHA256 over `<timestamp>.<raw body>`, Stripe-style: the
 * timestamp is signed, so a captured request can only be replayed inside the tolerance, where the
 * ingestion service's dedupe on the event id makes the replay a no-op. The recipe itself is in
 * lib/signed-webhook.ts (the alert webhook signs with it too).
 */
export { SIGNATURE_HEADER, TIMESTAMP_HEADER, signGenericBody } from '../../lib/signed-webhook.js';
export const TOLERANCE_SECONDS = 300;
export const MAX_EVENTS = 10_000;

export function verifyGenericSignature(
  secret: string,
  headers: { signature: string | string[] | undefined; timestamp: string | string[] | undefined },
  rawBody: Buffer,
  now: Date,
): WebhookResult<void> {
  const { signature, timestamp } = headers;
  if (typeof signature !== 'string' || typeof timestamp !== 'string') return refused('forbidden', 'signature or timestamp header missing');
  if (!/^\d{1,12}$/.test(timestamp)) return refused('forbidden', 'timestamp must be unix seconds');
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) {
    return refused('forbidden', `timestamp is more than ${TOLERANCE_SECONDS} s from our clock`);
  }
  const expected = Buffer.from(signGenericBody(secret, timestamp, rawBody), 'utf8');
  // Several `v1=` values (comma-separated) let a sender sign with an old and a new secret while rotating.
  const matches = signature.split(',').some((candidate) => {
    const given = Buffer.from(candidate.trim(), 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? ok(undefined) : refused('forbidden', 'signature does not verify');
}

const eventSchema = z
  .object({
    id: z.string().min(1).max(200),
    type: z.enum(['bounce', 'complaint', 'deferral', 'delivery']),
    bounceType: z.enum(['hard', 'soft']).optional(),
    countsTowardRate: z.boolean().optional(),
    subtype: z.string().max(100).optional(),
    messageId: z.string().min(1).max(998).optional(),
    deliveryTag: z.string().min(1).max(100).optional(),
    recipient: z.string().min(3).max(320).includes('@').optional(),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
    detail: z.string().max(10_000).optional(),
  })
  .refine((e) => e.messageId !== undefined || e.deliveryTag !== undefined, { message: 'needs messageId or deliveryTag' })
  .refine((e) => e.type !== 'bounce' || e.bounceType !== undefined, { message: 'a bounce needs bounceType "hard" or "soft"', path: ['bounceType'] });

const bodySchema = z.object({ events: z.array(eventSchema).max(MAX_EVENTS) });

export function parseGenericEvents(rawBody: Buffer): WebhookResult<ParsedFeedback> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return refused('malformed', 'body is not JSON');
  }
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return refused('malformed', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  const events = parsed.data.events.map((e): FeedbackEvent => {
    const event: FeedbackEvent = {
      provider: 'generic',
      eventId: e.id,
      kind: e.type,
      countsTowardRate: e.countsTowardRate ?? e.type !== 'deferral',
    };
    if (e.type === 'bounce') event.bounceClass = e.bounceType;
    if (e.subtype) event.subtype = e.subtype;
    if (e.recipient) event.recipient = e.recipient.toLowerCase();
    if (e.messageId) event.messageId = e.messageId;
    if (e.deliveryTag) event.deliveryTag = e.deliveryTag;
    if (e.occurredAt) event.occurredAt = new Date(e.occurredAt);
    const detail = boundedDetail(e.detail);
    if (detail) event.detail = detail;
    return event;
  });
  return ok({ events, quarantined: [] });
}
