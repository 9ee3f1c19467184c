import { describe, expect, it } from 'vitest';
import { parseSesNotification } from '../../../../src/http/webhooks/ses-events.js';
import { sesSample } from '../../../support/webhooks.js';

const SNS_ID = '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324';
const at = new Date('2016-01-27T14:59:38.237Z');

/** A sample with some fields changed, still as the JSON string SNS carries. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- edits deep inside arbitrary sample JSON
type Json = Record<string, any>;
function variant(name: Parameters<typeof sesSample>[0], change: (n: Json) => void): string {
  const notification = JSON.parse(sesSample(name)) as Json;
  change(notification);
  return JSON.stringify(notification);
}

describe('parseSesNotification: the official samples', () => {
  it('bounce with DSN → one hard bounce with the diagnostic code', () => {
    expect(parseSesNotification(sesSample('bounce-with-dsn'), SNS_ID)).toEqual({
      events: [
        {
          provider: 'ses',
          eventId: `${SNS_ID}:jane@example.com`,
          kind: 'bounce',
          bounceClass: 'hard',
          countsTowardRate: true,
          subtype: 'Permanent/General',
          recipient: 'jane@example.com',
          messageId: 'custom-message-ID',
          providerMessageId: '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000',
          occurredAt: at,
          detail: 'smtp; 550 5.1.1 <jane@example.com>... User',
        },
      ],
      quarantined: [],
    });
  });

  it('bounce without DSN → one hard bounce per bounced recipient', () => {
    const { events, quarantined } = parseSesNotification(sesSample('bounce-without-dsn'), SNS_ID);
    expect(quarantined).toEqual([]);
    expect(events.map((e) => [e.eventId, e.kind, e.bounceClass, e.detail])).toEqual([
      [`${SNS_ID}:jane@example.com`, 'bounce', 'hard', undefined],
      [`${SNS_ID}:richard@example.com`, 'bounce', 'hard', undefined],
    ]);
    expect(events[0]).toMatchObject({ providerMessageId: '00000137860315fd-34208509-5b74-41f3-95c5-22c1edc3c924-000000', messageId: 'custom-message-ID' });
  });

  it('complaint with feedback report → a complaint with the feedback type', () => {
    const { events } = parseSesNotification(sesSample('complaint-with-feedback-report'), SNS_ID);
    expect(events).toEqual([
      expect.objectContaining({ eventId: `${SNS_ID}:richard@example.com`, kind: 'complaint', countsTowardRate: true, subtype: 'abuse', recipient: 'richard@example.com', occurredAt: at }),
    ]);
    expect(events[0]!.bounceClass).toBeUndefined();
  });

  it('complaint without feedback report → a complaint', () => {
    const { events } = parseSesNotification(sesSample('complaint-without-feedback-report'), SNS_ID);
    expect(events).toEqual([expect.objectContaining({ kind: 'complaint', recipient: 'richard@example.com', countsTowardRate: true })]);
    expect(events[0]!.subtype).toBeUndefined();
  });

  it('delivery → a delivery with the SMTP response', () => {
    const { events } = parseSesNotification(sesSample('delivery'), SNS_ID);
    expect(events).toEqual([
      expect.objectContaining({ kind: 'delivery', recipient: 'jane@example.com', countsTowardRate: true, detail: '250 ok:  Message 64111812 accepted', messageId: 'custom-message-ID' }),
    ]);
  });
});

describe('parseSesNotification: semantics and leniency', () => {
  it.each([
    ['Permanent', 'General', 'hard', true],
    ['Permanent', 'NoEmail', 'hard', true],
    ['Permanent', 'Suppressed', 'hard', true],
    ['Permanent', 'OnAccountSuppressionList', 'hard', false],
    ['Transient', 'General', 'soft', false],
    ['Transient', 'MailboxFull', 'soft', true],
    ['Undetermined', 'Undetermined', 'soft', true],
  ])('W10: %s/%s → %s, counts toward rate: %s', (bounceType, bounceSubType, bounceClass, counts) => {
    const message = variant('bounce-with-dsn', (n) => Object.assign(n.bounce, { bounceType, bounceSubType }));
    expect(parseSesNotification(message, SNS_ID).events[0]).toMatchObject({ bounceClass, countsTowardRate: counts, subtype: `${bounceType}/${bounceSubType}` });
  });

  it('W7: accepts event publishing (eventType instead of notificationType)', () => {
    const message = variant('bounce-with-dsn', (n) => {
      n.eventType = n.notificationType;
      delete n.notificationType;
    });
    expect(parseSesNotification(message, SNS_ID).events).toEqual([expect.objectContaining({ kind: 'bounce', recipient: 'jane@example.com' })]);
  });

  it('DeliveryDelay → a deferral per delayed recipient, not counted', () => {
    const message = JSON.stringify({
      eventType: 'DeliveryDelay',
      mail: JSON.parse(sesSample('delivery')).mail,
      deliveryDelay: {
        timestamp: '2020-06-16T00:15:40.641Z',
        delayType: 'TransientCommunicationFailure',
        expirationTime: '2020-06-16T00:25:40.914Z',
        delayedRecipients: [{ emailAddress: 'Jane@Example.com', status: '4.4.1', diagnosticCode: 'smtp; 421 4.4.1 Unable to connect' }],
      },
    });
    expect(parseSesNotification(message, SNS_ID).events).toEqual([
      expect.objectContaining({
        kind: 'deferral',
        countsTowardRate: false,
        subtype: 'TransientCommunicationFailure',
        recipient: 'jane@example.com',
        eventId: `${SNS_ID}:jane@example.com`,
        detail: 'smtp; 421 4.4.1 Unable to connect',
        occurredAt: new Date('2020-06-16T00:15:40.641Z'),
      }),
    ]);
  });

  it('event-publishing Send/Open/Click are recorded as other, not quarantined', () => {
    const message = variant('delivery', (n) => {
      delete n.notificationType;
      delete n.delivery;
      n.eventType = 'Open';
      n.open = { ipAddress: '192.0.2.1', timestamp: '2017-08-09T22:00:19.652Z', userAgent: 'Mozilla/5.0' };
    });
    expect(parseSesNotification(message, SNS_ID)).toEqual({ events: [expect.objectContaining({ kind: 'other', subtype: 'Open', countsTowardRate: false, recipient: 'jane@example.com' })], quarantined: [] });
  });

  it("SES's AmazonSnsSubscriptionSucceeded notice is neither events nor quarantine", () => {
    const notice = JSON.stringify({ notificationType: 'AmazonSnsSubscriptionSucceeded', message: 'You have successfully subscribed your Amazon SNS topic' });
    expect(parseSesNotification(notice, SNS_ID)).toEqual({ events: [], quarantined: [] });
  });

  it.each([
    ['not JSON', 'Hello world!', /not JSON/],
    ['JSON but not an object', '[1,2]', /not an SES notification/],
    ['no type at all', '{"mail":{}}', /neither notificationType nor eventType/],
    ['an unknown notificationType', '{"notificationType":"Teleport","mail":{}}', /unknown notification type "Teleport"/],
    ['a Bounce without its bounce object', '{"notificationType":"Bounce","mail":{}}', /Bounce without a bounce object/],
  ])('W7: quarantines a Message that is %s, keyed by the SNS MessageId', (_name, message, reason) => {
    const { events, quarantined } = parseSesNotification(message, SNS_ID);
    expect(events).toEqual([]);
    expect(quarantined).toEqual([{ provider: 'ses', eventId: SNS_ID, reason: expect.stringMatching(reason), raw: expect.anything() }]);
  });

  it('W9: an empty bouncedRecipients list is no events and no error', () => {
    expect(parseSesNotification(variant('bounce-with-dsn', (n) => (n.bounce.bouncedRecipients = [])), SNS_ID)).toEqual({ events: [], quarantined: [] });
  });

  it('W9: handles 1,000 recipients, including ones not in mail.destination, and lower-cases them', () => {
    const recipients = Array.from({ length: 1000 }, (_, i) => ({ emailAddress: `User${i}@Example.com`, diagnosticCode: 'smtp; 550' }));
    recipients.push({ emailAddress: 'user0@example.com', diagnosticCode: 'duplicate' }, { emailAddress: 42 as never, diagnosticCode: 'no address' });
    const { events } = parseSesNotification(variant('bounce-with-dsn', (n) => (n.bounce.bouncedRecipients = recipients)), SNS_ID);
    expect(events).toHaveLength(1000);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(1000);
    expect(events[999]).toMatchObject({ recipient: 'user999@example.com', eventId: `${SNS_ID}:user999@example.com` });
  });

  it('finds our delivery tag and Message-ID in mail.headers, case-insensitively', () => {
    const message = variant('bounce-with-dsn', (n) => {
      delete n.mail.commonHeaders;
      n.mail.headers = [
        { name: 'message-id', value: '<cg.dep_0123456789.12@example.com>' },
        { name: 'x-campaign-guard-delivery', value: 'dep_0123456789.12' },
      ];
    });
    expect(parseSesNotification(message, SNS_ID).events[0]).toMatchObject({ messageId: '<cg.dep_0123456789.12@example.com>', deliveryTag: 'dep_0123456789.12' });
  });

  it('tolerates unknown fields and truncates long diagnostics to 500 characters', () => {
    const message = variant('bounce-with-dsn', (n) => {
      n.somethingNew = { nested: [1, 2, 3] };
      n.bounce.bouncedRecipients[0].diagnosticCode = `smtp; 550\r\nInjected: line ${'x'.repeat(2000)}`;
      n.mail.headers = 'not an array';
    });
    const [event] = parseSesNotification(message, SNS_ID).events;
    expect(event!.detail).toHaveLength(500);
    expect(event!.detail).not.toMatch(/[\r\n]/);
    expect(event!.messageId).toBe('custom-message-ID');
  });

  it('gives the same event ids for the same SNS MessageId (retries dedupe)', () => {
    const first = parseSesNotification(sesSample('bounce-without-dsn'), SNS_ID);
    const retry = parseSesNotification(sesSample('bounce-without-dsn'), SNS_ID);
    expect(retry.events.map((e) => e.eventId)).toEqual(first.events.map((e) => e.eventId));
  });
});
