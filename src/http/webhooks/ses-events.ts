import { z } from 'zod';
import type { FeedbackEvent, ParsedFeedback } from '../../domain/feedback.js';
import { DELIVERY_HEADER } from '../../domain/message.js';
import { boundedDetail, dateOrUndefined } from './refusal.js';

/**
 * SES notifications (the JSON inside an SNS `Message`) → normalised feedback. SES "reserves the
 * right to add additional fields", so every object is loose and only what we use is checked.
 * Something we cannot understand is quarantined for a person, never an error: an error would make
 * SNS retry a message that will never parse.
 */

/** Present or not, any type: each use checks what it needs. */
const anything = z.unknown().optional();
const recipientSchema = z.looseObject({ emailAddress: anything, diagnosticCode: anything, status: anything });
const recipientList = z.array(recipientSchema).catch([]);
const header = z.looseObject({ name: anything, value: anything });

const notificationSchema = z.looseObject({
  notificationType: z.string().optional().catch(undefined),
  eventType: z.string().optional().catch(undefined),
  mail: z
    .looseObject({
      timestamp: anything,
      messageId: anything,
      destination: z.array(anything).catch([]).optional(),
      headers: z.array(header).catch([]).optional(),
      commonHeaders: z.looseObject({ messageId: anything }).catch({ messageId: undefined }).optional(),
    })
    .optional()
    .catch(undefined),
  bounce: z
    .looseObject({ bounceType: anything, bounceSubType: anything, bouncedRecipients: recipientList, timestamp: anything })
    .optional()
    .catch(undefined),
  complaint: z
    .looseObject({
      complainedRecipients: recipientList,
      complaintFeedbackType: anything,
      complaintSubType: anything,
      timestamp: anything,
    })
    .optional()
    .catch(undefined),
  delivery: z.looseObject({ recipients: z.array(anything).catch([]), smtpResponse: anything, timestamp: anything }).optional().catch(undefined),
  deliveryDelay: z
    .looseObject({ delayType: anything, delayedRecipients: recipientList, timestamp: anything })
    .optional()
    .catch(undefined),
});

type Notification = z.infer<typeof notificationSchema>;
type Mail = NonNullable<Notification['mail']>;

/**
 * Types that are not delivery feedback: recorded as `other`, not quarantined. The event-publishing
 * ones name the message's recipients; SES's "your topic is set up" notice names nobody (no events).
 */
const OTHER_EVENT_TYPES = new Set(['Send', 'Reject', 'Open', 'Click', 'Rendering Failure', 'RenderingFailure', 'Subscription', 'AmazonSnsSubscriptionSucceeded']);

/** Bounces SES itself leaves out of the account's bounce rate. */
const NOT_COUNTED_BOUNCES = new Set(['Permanent/OnAccountSuppressionList', 'Transient/General']);

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function headerValue(mail: Mail, name: string): string | undefined {
  const wanted = name.toLowerCase();
  const found = mail.headers?.find((h) => typeof h.name === 'string' && h.name.toLowerCase() === wanted);
  return text(found?.value);
}

/** What every event of one notification shares: the message it is about. */
function messageFields(mail: Mail | undefined): Pick<FeedbackEvent, 'messageId' | 'deliveryTag' | 'providerMessageId'> {
  if (!mail) return {};
  return {
    messageId: text(mail.commonHeaders?.messageId) ?? headerValue(mail, 'Message-ID'),
    deliveryTag: headerValue(mail, DELIVERY_HEADER),
    providerMessageId: text(mail.messageId),
  };
}

interface PerRecipient {
  recipient: string;
  detail?: string | undefined;
}

function fromRecipientList(list: z.infer<typeof recipientList>, detailOf: (r: z.infer<typeof recipientSchema>) => unknown): PerRecipient[] {
  return list.flatMap((r) => {
    const recipient = text(r.emailAddress);
    return recipient ? [{ recipient, detail: boundedDetail(detailOf(r)) }] : [];
  });
}

function fromAddresses(list: unknown[] | undefined, detail?: unknown): PerRecipient[] {
  return (list ?? []).flatMap((a) => {
    const recipient = text(a);
    return recipient ? [{ recipient, detail: boundedDetail(detail) }] : [];
  });
}

type Shape = Pick<FeedbackEvent, 'kind' | 'bounceClass' | 'countsTowardRate' | 'subtype'> & {
  recipients: PerRecipient[];
  timestamp: unknown;
};

/** The kind and recipients of a notification, or why it cannot be understood. */
function shapeOf(type: string, n: Notification): Shape | string {
  switch (type) {
    case 'Bounce': {
      if (!n.bounce) return 'Bounce without a bounce object';
      const bounceType = text(n.bounce.bounceType) ?? 'Undetermined';
      const subtype = text(n.bounce.bounceSubType) ? `${bounceType}/${text(n.bounce.bounceSubType)}` : bounceType;
      return {
        kind: 'bounce',
        // Undetermined: SES could not tell; treating it as permanent would over-count hard bounces.
        bounceClass: bounceType === 'Permanent' ? 'hard' : 'soft',
        countsTowardRate: !NOT_COUNTED_BOUNCES.has(subtype),
        subtype,
        recipients: fromRecipientList(n.bounce.bouncedRecipients, (r) => r.diagnosticCode ?? r.status),
        timestamp: n.bounce.timestamp,
      };
    }
    case 'Complaint': {
      if (!n.complaint) return 'Complaint without a complaint object';
      const subType = text(n.complaint.complaintSubType);
      return {
        kind: 'complaint',
        countsTowardRate: subType !== 'OnAccountSuppressionList',
        subtype: subType ?? text(n.complaint.complaintFeedbackType),
        recipients: fromRecipientList(n.complaint.complainedRecipients, () => undefined),
        timestamp: n.complaint.timestamp,
      };
    }
    case 'Delivery':
      if (!n.delivery) return 'Delivery without a delivery object';
      return {
        kind: 'delivery',
        countsTowardRate: true,
        recipients: fromAddresses(n.delivery.recipients, n.delivery.smtpResponse),
        timestamp: n.delivery.timestamp,
      };
    case 'DeliveryDelay':
      if (!n.deliveryDelay) return 'DeliveryDelay without a deliveryDelay object';
      return {
        kind: 'deferral',
        countsTowardRate: false,
        subtype: text(n.deliveryDelay.delayType),
        recipients: fromRecipientList(n.deliveryDelay.delayedRecipients, (r) => r.diagnosticCode ?? r.status),
        timestamp: n.deliveryDelay.timestamp,
      };
    default:
      if (OTHER_EVENT_TYPES.has(type)) {
        return { kind: 'other', countsTowardRate: false, subtype: type, recipients: fromAddresses(n.mail?.destination), timestamp: undefined };
      }
      return `unknown notification type ${JSON.stringify(type.slice(0, 50))}`;
  }
}

/**
 * One event per recipient, `<SNS MessageId>:<recipient>`: SNS retries reuse the MessageId, so the
 * ids are the same on every retry and the ingestion service counts each recipient once.
 */
export function parseSesNotification(message: string, snsMessageId: string): ParsedFeedback {
  const quarantine = (reason: string, raw: unknown): ParsedFeedback => ({
    events: [],
    quarantined: [{ provider: 'ses', eventId: snsMessageId, reason, raw }],
  });
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    return quarantine('SNS Message is not JSON', message);
  }
  const parsed = notificationSchema.safeParse(json);
  if (!parsed.success) return quarantine('SNS Message is not an SES notification object', json);
  const notification = parsed.data;
  const type = notification.notificationType ?? notification.eventType;
  if (!type) return quarantine('neither notificationType nor eventType is set', json);

  const shape = shapeOf(type, notification);
  if (typeof shape === 'string') return quarantine(shape, json);

  const shared = messageFields(notification.mail);
  const occurredAt = dateOrUndefined(shape.timestamp) ?? dateOrUndefined(notification.mail?.timestamp);
  const seen = new Set<string>();
  const events: FeedbackEvent[] = [];
  for (const { recipient: address, detail } of shape.recipients) {
    const recipient = address.toLowerCase();
    // The same address twice in one notification would be the same event id: keep the first.
    if (seen.has(recipient)) continue;
    seen.add(recipient);
    events.push({
      provider: 'ses',
      eventId: `${snsMessageId}:${recipient}`,
      kind: shape.kind,
      ...(shape.bounceClass ? { bounceClass: shape.bounceClass } : {}),
      countsTowardRate: shape.countsTowardRate,
      ...(shape.subtype ? { subtype: shape.subtype } : {}),
      recipient,
      ...definedOnly(shared),
      ...(occurredAt ? { occurredAt } : {}),
      ...(detail ? { detail } : {}),
    });
  }
  return { events, quarantined: [] };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
