import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { snsStringToSign, type SnsEnvelope } from '../../src/http/webhooks/sns.js';

/**
 * Fixtures for the provider webhooks: the official SES and SendGrid samples (verbatim, from
 * ../shared/reference/provider-webhooks.md), a test key and self-signed certificate to sign SNS
 * envelopes with, and SendGrid's own signed vectors.
 */
const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

export const fixture = (relative: string) => readFileSync(path.join(FIXTURES, relative), 'utf8');

export const SNS_CERT_PEM = fixture('sns/signing-cert.pem');
const SNS_KEY = createPrivateKey(fixture('sns/signing-key.pem'));

export const TOPIC_ARN = 'arn:aws:sns:us-west-2:123456789012:ses-feedback';
export const CERT_URL = 'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem';

export const SES_SAMPLES = [
  'bounce-with-dsn',
  'bounce-without-dsn',
  'complaint-with-feedback-report',
  'complaint-without-feedback-report',
  'delivery',
] as const;
export const sesSample = (name: (typeof SES_SAMPLES)[number]) => fixture(`ses/${name}.json`);

type EnvelopeFields = Partial<Record<keyof SnsEnvelope, string | undefined>> & Record<string, unknown>;

/** A Notification envelope around `message`, signed with the fixture key (v1 = SHA1, v2 = SHA256). */
export function signedNotification(message: string, overrides: EnvelopeFields = {}, version: '1' | '2' = '2'): Record<string, unknown> {
  return signEnvelope(
    {
      Type: 'Notification',
      MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
      TopicArn: TOPIC_ARN,
      Subject: 'Amazon SES Email Event Notification',
      Message: message,
      Timestamp: '2016-01-27T14:59:38.500Z',
      SigningCertURL: CERT_URL,
      UnsubscribeURL: `https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC_ARN}:c9135db0`,
      ...overrides,
    },
    version,
  );
}

export function signedSubscriptionConfirmation(overrides: EnvelopeFields = {}, version: '1' | '2' = '2'): Record<string, unknown> {
  const topic = (overrides.TopicArn as string | undefined) ?? TOPIC_ARN;
  return signEnvelope(
    {
      Type: 'SubscriptionConfirmation',
      MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
      Token: '2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736',
      TopicArn: topic,
      Message: `You have chosen to subscribe to the topic ${topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      SubscribeURL: `https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topic}&Token=2336412f37`,
      Timestamp: '2012-04-26T20:45:04.751Z',
      SigningCertURL: CERT_URL,
      ...overrides,
    },
    version,
  );
}

/** Signs whatever fields are given (Type must be one SNS knows); Signature/SignatureVersion may be overridden afterwards. */
export function signEnvelope(fields: EnvelopeFields, version: '1' | '2' = '2'): Record<string, unknown> {
  const toSign = snsStringToSign(fields as unknown as SnsEnvelope);
  const signature = sign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256', Buffer.from(toSign, 'utf8'), SNS_KEY).toString('base64');
  return { ...fields, SignatureVersion: version, Signature: signature };
}

/** Every SigningCertURL variant that bad-inputs.md W3 says must be refused, plus near misses. */
export const W3_CERT_URLS = [
  'http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem',
  'https://s3.amazonaws.com/bucket/SimpleNotificationService-x.pem',
  'https://sns.us-east-1.amazonaws.com.evil.tld/SimpleNotificationService-x.pem',
  'https://evil.tld/sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem',
  'https://sns.us-east-1.amazonaws.com@evil.tld/x.pem',
  'https://sns.us-east-1.amazonaws.com@evil.tld/SimpleNotificationService-x.pem',
  'https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-x.pem',
  'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&x=.pem',
  'https://sns.us-east-1.amazonaws.com/../x.pem',
  'https://sns.us-east-1.amazonaws.com/../SimpleNotificationService-x.pem',
  'https://SNS.US-EAST-1.AMAZONAWS.COM/SimpleNotificationService-x.pem',
  'https://sns.us-east-1.AmazonAWS.com/SimpleNotificationService-x.pem',
];

/** SendGrid's own signed vectors (sendgrid-nodejs eventwebhook.spec.js); the bodies end in CR LF. */
export const SENDGRID_VECTORS = {
  single: {
    publicKey: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==',
    timestamp: '1600112502',
    signature: 'MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=',
    body: '[{"email":"hello@world.com","event":"dropped","reason":"Bounced Address","sg_event_id":"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA","sg_message_id":"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0","smtp-id":"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>","timestamp":1600112492}]\r\n',
  },
  two: {
    publicKey: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQ4LIFtWztlsF7skFqOncjD1lun4H5w8XOhyOArHW9RcIx/FfEzx6cikC/yPfUvwaX/JScE7Fc9CJD2afQ9Ok3Q==',
    timestamp: '1619651159',
    signature: 'MEYCIQC/I4o6vCgqRYrTljjoVWB/GRWNtxeePlLMHr3x9ETeRQIhAIpV+03nREPTTHWSW0wIOA0EoMPdcNgXa70yCaqDJlu5',
    body: '[{"email":"invalid@gmail.com","event":"processed","send_at":0,"sg_event_id":"cHJvY2Vzc2VkLTE5OTQyMTEyLXFOd0JMZ1BRUWpXNkRKdktRd1NBYnctMA","sg_message_id":"qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0","smtp-id":"<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>","timestamp":1619651146},\r\n{"email":"invalid@gmail.com","event":"bounce","ip":"167.89.101.76","reason":"552 5.2.2 The email account that you tried to reach is over quota and inactive. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm c17si1130468pgv.34 - gsmtp","sg_event_id":"Ym91bmNlLTAtMTk5NDIxMTItcU53QkxnUFFRalc2REp2S1F3U0Fidy0w","sg_message_id":"qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0","smtp-id":"<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>","status":"5.2.2","timestamp":1619651147,"tls":1,"type":"blocked"}]\r\n',
  },
  wrongPublicKey: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==',
} as const;
