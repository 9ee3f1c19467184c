import { verify } from 'node:crypto';
import { z } from 'zod';
import { ok, refused } from '../../domain/result.js';
import type { WebhookResult } from './refusal.js';
import { isTrustedSigningCertUrl, parseSnsHostUrl, type CertificateStore } from './sns-certificates.js';

/**
 * Amazon SNS HTTP/S deliveries: the signed envelope around an SES notification. Verification
 * follows AWS's checklist plus the lessons of real bypasses: refuse raw delivery (unsigned), vet the
 * certificate URL before any fetch, refuse unknown topics before any fetch, then verify the signature.
 */

const MESSAGE_TYPES = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const;
export type SnsMessageType = (typeof MESSAGE_TYPES)[number];

// Fields are optional here so that a missing signature or certificate URL is refused as
// unverifiable (403) rather than reported as a malformed body (400).
const optionalText = z.string().nullish().transform((v) => v ?? undefined);
const envelopeSchema = z.looseObject({
  Type: z.enum(MESSAGE_TYPES),
  MessageId: z.string().min(1).max(200),
  TopicArn: optionalText,
  Message: z.string(),
  Timestamp: z.string(),
  Subject: optionalText,
  SubscribeURL: optionalText,
  Token: optionalText,
  SignatureVersion: optionalText,
  Signature: optionalText,
  SigningCertURL: optionalText,
});

export type SnsEnvelope = z.infer<typeof envelopeSchema>;

/** Field names, in byte order, that SNS signs for each message type. */
const SIGNED_FIELDS: Record<SnsMessageType, readonly (keyof SnsEnvelope)[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

const ALGORITHM_FOR_VERSION: Record<string, string> = { '1': 'RSA-SHA1', '2': 'RSA-SHA256' };

/** `Name\nValue\n` for each signed field present. JSON.parse has already restored escapes. */
export function snsStringToSign(envelope: SnsEnvelope): string {
  let text = '';
  for (const name of SIGNED_FIELDS[envelope.Type]) {
    const value = envelope[name];
    if (typeof value === 'string') text += `${name}\n${value}\n`;
  }
  return text;
}

export function parseSnsEnvelope(body: string): WebhookResult<SnsEnvelope> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return refused('malformed', 'body is not JSON');
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return refused('malformed', `not an SNS message: ${issue.path.join('.') || 'body'} ${issue.message}`);
  }
  return ok(parsed.data);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface SnsVerifier {
  topicArns: readonly string[];
  certificates: CertificateStore;
}

/**
 * Everything short of acting on the message, in the order that keeps attackers from making us
 * fetch anything: raw delivery, certificate URL, topic, signature encoding, then the signature.
 */
export async function verifySnsDelivery(
  request: { body: string; rawDeliveryHeader: string | string[] | undefined },
  verifier: SnsVerifier,
): Promise<WebhookResult<SnsEnvelope>> {
  if (request.rawDeliveryHeader !== undefined && String(request.rawDeliveryHeader).toLowerCase() !== 'false') {
    return refused('forbidden', 'raw message delivery carries no signature; turn it off on the subscription');
  }
  const parsed = parseSnsEnvelope(request.body);
  if (!parsed.ok) return parsed;
  const envelope = parsed.value;

  if (!envelope.SigningCertURL || !isTrustedSigningCertUrl(envelope.SigningCertURL)) {
    return refused('forbidden', 'SigningCertURL is not an Amazon SNS certificate URL');
  }
  if (!envelope.TopicArn || !verifier.topicArns.includes(envelope.TopicArn)) {
    return refused('forbidden', 'TopicArn is not in SES_TOPIC_ARNS');
  }
  const algorithm = ALGORITHM_FOR_VERSION[envelope.SignatureVersion ?? ''];
  if (!algorithm) return refused('forbidden', 'SignatureVersion must be "1" or "2"');
  if (!envelope.Signature || !BASE64.test(envelope.Signature)) return refused('forbidden', 'Signature is missing or not base64');

  const key = await verifier.certificates.publicKey(envelope.SigningCertURL);
  if (!key.ok) return key;
  const signature = Buffer.from(envelope.Signature, 'base64');
  let valid = false;
  try {
    valid = verify(algorithm, Buffer.from(snsStringToSign(envelope), 'utf8'), key.value, signature);
  } catch {
    // A key type that cannot verify RSA signatures, say: the same answer as a bad signature.
  }
  return valid ? ok(envelope) : refused('forbidden', 'signature does not verify');
}

/**
 * Only a verified SubscriptionConfirmation from an allowlisted topic reaches here; the SubscribeURL
 * must still point at SNS itself, or confirming would be a server-side request forgery for anyone
 * who can get a message signed (CVE-2019-6715, CVE-2026-32096).
 */
export function subscribeUrlOf(envelope: SnsEnvelope): WebhookResult<string> {
  const raw = envelope.SubscribeURL;
  if (!raw) return refused('malformed', 'SubscriptionConfirmation without SubscribeURL');
  const url = parseSnsHostUrl(raw);
  if (!url || url.hash !== '') return refused('forbidden', 'SubscribeURL is not an Amazon SNS URL');
  // The one SNS call we mean to make; nothing else on the SNS host is ours to GET.
  if (url.pathname !== '/' || url.searchParams.get('Action') !== 'ConfirmSubscription') {
    return refused('forbidden', 'SubscribeURL is not a ConfirmSubscription call');
  }
  return ok(url.href);
}

/**
 * A `confirmSubscription` for production: one GET of the vetted SubscribeURL, no redirects (a
 * redirect could leave SNS), a timeout, and only the status read. SNS answers 200 with an XML
 * ConfirmSubscriptionResponse; anything else throws, the route answers 503 and SNS sends the
 * confirmation again.
 */
export function createSubscriptionConfirmer(options: { timeoutMs?: number } = {}): (url: string) => Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return async (url) => {
    const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`SubscribeURL answered HTTP ${response.status}`);
  };
}
