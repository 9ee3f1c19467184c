import { createHash } from 'node:crypto';
import type { FeedbackEvent, QuarantinedInput } from '../../domain/feedback.js';
import { boundedJson, storableText } from '../../domain/storable.js';
import type { NewProviderEvent } from '../../db/queries/feedback.js';

/**
 * Feedback made fit for Postgres before it is stored, whatever a provider sent: every text field
 * cleaned (no NUL, no lone surrogate) and cut by code points to a length its column and indexes
 * hold, a timestamp Postgres cannot represent dropped, a raw input too deep or too large kept as a
 * bounded preview. A valid bounce whose reply text has an emoji astride the cut still counts.
 */
const LIMITS = {
  /** Longer ids (an SES recipient of 3,000 characters) are replaced by their hash: still stable on retries. */
  eventId: 500,
  recipient: 320,
  /** Indexed for orphans: 500 characters stay under the 2,704-byte index entry limit in any script. */
  messageId: 500,
  deliveryTag: 100,
  providerMessageId: 200,
  subtype: 100,
  detail: 500,
} as const;

/** A quarantined input's raw JSON: whole when it is this small and shallow, a preview otherwise. */
const RAW_LIMITS = { maxDepth: 32, maxChars: 64 * 1024 } as const;

/** Cleaned; when too long for the unique index, its hash (still the same on every retry). */
function storableId(id: string): string {
  const clean = storableText(id);
  // UTF-16 length is at least the code-point count: most ids never need counting.
  return clean.length > LIMITS.eventId && [...clean].length > LIMITS.eventId ? `sha256:${createHash('sha256').update(clean).digest('hex')}` : clean;
}

function cut(value: string | undefined, max: number): string | undefined {
  return value === undefined ? undefined : storableText(value, max);
}

/** Years Postgres' timestamptz and JavaScript's ISO strings agree on. */
function storableDate(date: Date | undefined): Date | undefined {
  if (!date) return undefined;
  const year = date.getUTCFullYear();
  return Number.isNaN(date.getTime()) || year < 1970 || year > 9999 ? undefined : date;
}

export function storableEvent(event: FeedbackEvent): FeedbackEvent {
  const stored: FeedbackEvent = { ...event, eventId: storableId(event.eventId) };
  for (const field of ['recipient', 'messageId', 'deliveryTag', 'providerMessageId', 'subtype', 'detail'] as const) {
    const value = cut(event[field], LIMITS[field]);
    if (value === undefined) delete stored[field];
    else stored[field] = value;
  }
  const occurredAt = storableDate(event.occurredAt);
  if (occurredAt) stored.occurredAt = occurredAt;
  else delete stored.occurredAt;
  return stored;
}

/** The provider_events row of an input kept for a person to look at (`cause` says why it was not counted). */
export function quarantineRow(q: QuarantinedInput): NewProviderEvent {
  const raw = boundedJson(q.raw, { ...RAW_LIMITS, storable: true });
  return {
    provider: q.provider,
    eventId: storableId(q.eventId),
    type: 'unparsed',
    subtype: null,
    deploymentId: null,
    seq: null,
    messageId: null,
    recipient: null,
    disposition: 'quarantined',
    occurredAt: null,
    // Whole JSON when it fits; otherwise the preview, as a string.
    payload: `{"reason":${JSON.stringify(storableText(q.reason, 500))},"raw":${raw.complete ? raw.text : JSON.stringify(raw.text)}${raw.complete ? '' : ',"rawCut":true'}}`,
  };
}
