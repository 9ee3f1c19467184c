import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FeedbackEvent, ParsedFeedback, QuarantinedInput } from '../../domain/feedback.js';
import { ok, refused } from '../../domain/result.js';
import { boundedJson, nestingWithin } from '../../domain/storable.js';
import { boundedDetail, dateOrUndefined, type WebhookResult } from './refusal.js';

/**
 * SendGrid's signed Event Webhook: ECDSA P-256 over the timestamp header followed by the raw body
 * bytes. The raw bytes matter: re-serialised JSON (or a proxy that strips whitespace) no longer
 * verifies. SendGrid documents no timestamp tolerance, so replays are stopped by dedupe on the
 * event id, not here.
 */
export const SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

/** The key from Settings → Mail Settings → Signed Event Webhook (base64 DER SPKI). */
export function sendgridPublicKey(base64: string): KeyObject {
  return createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
}

export function verifySendgridSignature(
  key: KeyObject,
  headers: { signature: string | string[] | undefined; timestamp: string | string[] | undefined },
  rawBody: Buffer,
): WebhookResult<void> {
  const { signature, timestamp } = headers;
  // A header sent twice arrives as an array: ambiguous, so refused rather than guessed.
  if (typeof signature !== 'string' || typeof timestamp !== 'string' || signature === '' || timestamp === '') {
    return refused('forbidden', 'signature or timestamp header missing');
  }
  if (timestamp.length > 20 || signature.length > 200) return refused('forbidden', 'signature or timestamp header too long');
  let valid = false;
  try {
    valid = verify('sha256', Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]), { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
  } catch {
    // A signature that is not DER at all: the same answer as a wrong one.
  }
  return valid ? ok(undefined) : refused('forbidden', 'signature does not verify');
}

/**
 * Real events are flat objects of a few hundred bytes. Anything nested deeper or (when it must be
 * hashed) larger than this is quarantined before it is walked: a recursive walk of an event nested
 * 20,000 deep ran out of stack and failed its whole batch.
 */
const EVENT_LIMITS = { maxDepth: 32, maxChars: 64 * 1024 } as const;

/**
 * JSON with object keys sorted at every level: the same event always hashes the same. Recursive,
 * so only for values whose nesting was checked first (nestingWithin).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** The hash of the canonical event (its nesting checked), or undefined when it is larger than the limit. */
function hashId(value: unknown): string | undefined {
  const canonical = canonicalJson(value);
  return canonical.length <= EVENT_LIMITS.maxChars ? sha256(canonical) : undefined;
}

/** An element too deep or too large to read: kept as a preview, under the hash of that preview (stable on retries). */
function oversized(element: unknown): QuarantinedInput {
  const preview = boundedJson(element, { ...EVENT_LIMITS, sortKeys: true });
  return { provider: 'sendgrid', eventId: sha256(preview.text), reason: `event nested deeper than ${EVENT_LIMITS.maxDepth} levels or larger than ${EVENT_LIMITS.maxChars / 1024} KB`, raw: element };
}

type Classified = Pick<FeedbackEvent, 'kind' | 'bounceClass' | 'countsTowardRate' | 'subtype'>;

function classify(name: string, event: Record<string, unknown>): Classified {
  switch (name) {
    case 'bounce': {
      // SendGrid reports a temporary rejection ("blocked") as a bounce event with type "blocked".
      const blocked = event.type === 'blocked';
      return { kind: 'bounce', bounceClass: blocked ? 'soft' : 'hard', countsTowardRate: true, subtype: blocked ? 'blocked' : 'bounce' };
    }
    case 'dropped':
      // Never attempted (suppressed address, invalid, ...): recorded, kept out of the rate.
      return { kind: 'bounce', bounceClass: 'hard', countsTowardRate: false, subtype: 'dropped' };
    case 'deferred':
      return { kind: 'deferral', countsTowardRate: false, subtype: 'deferred' };
    case 'delivered':
      return { kind: 'delivery', countsTowardRate: true };
    case 'spamreport':
      return { kind: 'complaint', countsTowardRate: true, subtype: 'spamreport' };
    default:
      // processed, open, click, unsubscribe, group_(un|re)subscribe and whatever SendGrid adds next.
      return { kind: 'other', countsTowardRate: false, subtype: name.slice(0, 50) };
  }
}

const stringField = (event: Record<string, unknown>, name: string) => {
  const value = event[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
};

function sendgridEvent(event: Record<string, unknown>, name: string, eventId: string): FeedbackEvent {
  const timestamp = typeof event.timestamp === 'number' ? dateOrUndefined(event.timestamp * 1000) : undefined;
  const result: FeedbackEvent = { provider: 'sendgrid', eventId, ...classify(name, event) };
  const recipient = stringField(event, 'email')?.toLowerCase();
  const messageId = stringField(event, 'smtp-id');
  const deliveryTag = stringField(event, 'cg_delivery');
  const providerMessageId = stringField(event, 'sg_message_id');
  const detail = boundedDetail(event.reason ?? event.response);
  if (recipient) result.recipient = recipient;
  if (messageId) result.messageId = messageId;
  if (deliveryTag) result.deliveryTag = deliveryTag;
  if (providerMessageId) result.providerMessageId = providerMessageId;
  if (timestamp) result.occurredAt = timestamp;
  if (detail) result.detail = detail;
  return result;
}

/** Events mapped between yields to the event loop: about 5 ms of work on a modest machine. */
const EVENTS_PER_TURN = 1000;

/**
 * A verified body → events. `[]` is a valid empty batch; anything but a JSON array is malformed.
 * An element we cannot read is quarantined on its own so the rest of the batch still counts.
 * A 10,000-event batch takes ~15 ms to JSON.parse and ~50-80 ms to map (hashing events without an
 * id dominates), so the mapping yields every EVENTS_PER_TURN events rather than hold the loop.
 */
export async function parseSendgridEvents(rawBody: Buffer): Promise<WebhookResult<ParsedFeedback>> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return refused('malformed', 'body is not JSON');
  }
  if (!Array.isArray(json)) return refused('malformed', 'body must be a JSON array of events');
  const events: FeedbackEvent[] = [];
  const quarantined: QuarantinedInput[] = [];
  const elements = json as unknown[];
  for (let index = 0; index < elements.length; index++) {
    if (index > 0 && index % EVENTS_PER_TURN === 0) await nextTurn();
    const element = elements[index];
    if (!nestingWithin(element, EVENT_LIMITS.maxDepth)) {
      quarantined.push(oversized(element));
      continue;
    }
    const sgEventId = element !== null && typeof element === 'object' && !Array.isArray(element) ? stringField(element as Record<string, unknown>, 'sg_event_id') : undefined;
    const eventId = sgEventId && sgEventId.length <= 200 ? sgEventId : hashId(element);
    if (eventId === undefined) {
      quarantined.push(oversized(element));
      continue;
    }
    if (element === null || typeof element !== 'object' || Array.isArray(element)) {
      quarantined.push({ provider: 'sendgrid', eventId, reason: 'event is not a JSON object', raw: element });
      continue;
    }
    const event = element as Record<string, unknown>;
    const name = stringField(event, 'event');
    if (!name) {
      quarantined.push({ provider: 'sendgrid', eventId, reason: 'event has no "event" field', raw: event });
      continue;
    }
    events.push(sendgridEvent(event, name, eventId));
  }
  return ok({ events, quarantined });
}
