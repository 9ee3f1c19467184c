import type { Refused, Result } from '../../domain/result.js';
import { storableText } from '../../domain/storable.js';

/**
 * Why a webhook request is not accepted, as a value the route renders. The code decides the status,
 * and the status decides whether the provider retries (SNS and SendGrid retry on 5xx only):
 * - `forbidden` (403): not from the provider we trust. Retrying would not help.
 * - `malformed` (400): verified or not, it cannot be read. Retrying would not help.
 * - `temporary` (503): our own fault (a certificate fetch failed, the database is down). Retry.
 */
export type RefusalCode = 'forbidden' | 'malformed' | 'temporary';

export type WebhookRefusal = Refused<RefusalCode>;
export type WebhookResult<T> = Result<T, RefusalCode>;

export const STATUS_FOR_REFUSAL: Record<RefusalCode, number> = {
  forbidden: 403,
  malformed: 400,
  temporary: 503,
};

/** Diagnostic text from a provider, bounded so one event cannot bloat a row or a log line. */
export function boundedDetail(text: unknown, max = 500): string | undefined {
  if (typeof text !== 'string') return undefined;
  // Control characters would let a provider's text forge log lines; a space keeps words apart.
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (clean === '') return undefined;
  // Cut by code points: cutting by UTF-16 units can leave half an emoji, which Postgres refuses.
  return storableText(clean, max);
}

/** A provider timestamp that may be missing or garbage. */
export function dateOrUndefined(value: unknown): Date | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
