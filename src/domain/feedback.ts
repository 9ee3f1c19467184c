/**
 * Delivery feedback from providers, normalised: every webhook (SES via SNS, SendGrid, our generic
 * one) turns its input into these, and one ingestion path counts them.
 */
export type FeedbackProvider = 'ses' | 'sendgrid' | 'generic';

export type FeedbackKind =
  /** Accepted by the recipient's server. */
  | 'delivery'
  | 'bounce'
  | 'complaint'
  /** Delayed; the provider keeps trying. Recorded, not counted. */
  | 'deferral'
  /** Opens, clicks, "processed" and the like: recorded as ignored. */
  | 'other';

export interface FeedbackEvent {
  provider: FeedbackProvider;
  /**
   * Unique per provider, stable across the provider's retries: the dedupe key. SES:
   * `<SNS MessageId>:<recipient>` (one notification may name several recipients); SendGrid:
   * `sg_event_id`, or `sha256:<hex>` of the canonical event when it has none; generic: the sender's id.
   */
  eventId: string;
  kind: FeedbackKind;
  /** For bounces: hard (permanent) or soft (transient, blocked). */
  bounceClass?: 'hard' | 'soft';
  /**
   * False for events the provider itself keeps out of its rate (SES `OnAccountSuppressionList`,
   * `Transient/General` auto-replies; SendGrid `dropped`): recorded, not counted.
   */
  countsTowardRate: boolean;
  /** The provider's own words for the kind, e.g. `Permanent/General`, `blocked`, `dropped`. */
  subtype?: string;
  /** Lower-cased. */
  recipient?: string;
  /** The RFC 5322 Message-ID of the message, with or without angle brackets. */
  messageId?: string;
  /** The value of our `X-Campaign-Guard-Delivery` header, when the provider echoes headers. */
  deliveryTag?: string;
  /** The provider's id for the message (SES `mail.messageId`, SendGrid `sg_message_id`). */
  providerMessageId?: string;
  occurredAt?: Date;
  /** Diagnostic text (bounce reason, SMTP response), at most 500 characters. */
  detail?: string;
}

/** Input that verified but cannot be understood: kept for a person to look at, never retried. */
export interface QuarantinedInput {
  provider: FeedbackProvider;
  /** Stable for a retried delivery (SNS MessageId; a hash of the raw event otherwise). */
  eventId: string;
  reason: string;
  raw: unknown;
  /** Why it is kept aside: it could not be understood (the default), or the database refused it as it was. */
  cause?: 'unreadable' | 'unstorable';
}

export interface ParsedFeedback {
  events: FeedbackEvent[];
  quarantined: QuarantinedInput[];
}
