import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import type { ParsedFeedback } from '../../domain/feedback.js';
import type { Logger } from '../../lib/logger.js';
import type { IngestSummary } from '../../services/feedback/ingest.js';
import { parseGenericEvents, SIGNATURE_HEADER as GENERIC_SIGNATURE, TIMESTAMP_HEADER as GENERIC_TIMESTAMP, verifyGenericSignature } from './generic.js';
import { STATUS_FOR_REFUSAL, type WebhookRefusal } from './refusal.js';
import { parseSendgridEvents, sendgridPublicKey, SIGNATURE_HEADER as SENDGRID_SIGNATURE, TIMESTAMP_HEADER as SENDGRID_TIMESTAMP, verifySendgridSignature } from './sendgrid.js';
import { parseSesNotification } from './ses-events.js';
import { subscribeUrlOf, verifySnsDelivery } from './sns.js';
import type { CertificateStore } from './sns-certificates.js';

const MB = 1024 * 1024;
/** SNS messages are at most 256 KB; our own format is capped at 10,000 events. */
export const SES_BODY_LIMIT = MB;
export const GENERIC_BODY_LIMIT = MB;
/** SendGrid posts batches of up to 768 KB; the margin is for their future growth, not for us. */
export const SENDGRID_BODY_LIMIT = 4 * MB;

export interface WebhookDeps {
  config: Config['webhooks'];
  /**
   * Stores and counts the events (deduplicated by eventId). Throwing means "retry later": 503.
   * Says how many events the database refused (quarantined instead, or lost when not even that).
   */
  ingest: (parsed: ParsedFeedback) => Promise<Pick<IngestSummary, 'unstorable' | 'lost'> | void>;
  certificates: CertificateStore;
  /** GETs an SNS SubscribeURL that has already been vetted (signed, allowlisted, SNS host). */
  confirmSubscription: (url: string) => Promise<void>;
  logger: Logger;
  clock?: () => Date;
}

type Webhook = 'ses' | 'sendgrid' | 'generic';

/**
 * POST /webhooks/ses, /webhooks/sendgrid, /webhooks/events. Registered in their own encapsulated
 * context: the raw-body parser (signatures are over raw bytes) and the error handler apply here
 * only. Status codes tell providers whether to retry: 4xx never retried, 5xx retried.
 */
export function registerWebhookRoutes(server: FastifyInstance, deps: WebhookDeps): void {
  const logger = deps.logger.child({ component: 'webhooks' });
  const clock = deps.clock ?? (() => new Date());
  const { config } = deps;
  const sendgridKey = config.sendgridPublicKey ? sendgridPublicKey(config.sendgridPublicKey) : undefined;

  const refuse = (reply: FastifyReply, webhook: Webhook, refusal: WebhookRefusal) => {
    const status = STATUS_FOR_REFUSAL[refusal.code];
    logger.warn({ webhook, status, reason: refusal.reason }, 'webhook request refused');
    return reply.code(status).send({ error: refusal.reason });
  };

  const notConfigured = (reply: FastifyReply, message: string) => reply.code(404).send({ error: message });

  async function ingest(reply: FastifyReply, webhook: Webhook, parsed: ParsedFeedback) {
    if (parsed.quarantined.length > 0) {
      // One line per request, not per item: a bad batch of 10,000 must not flood the log.
      const reasons = [...new Set(parsed.quarantined.map((item) => item.reason))].slice(0, 5);
      logger.warn({ webhook, count: parsed.quarantined.length, eventIds: parsed.quarantined.slice(0, 5).map((item) => item.eventId), reasons }, 'webhook input quarantined');
    }
    let refused = { unstorable: 0, lost: 0 };
    try {
      // An empty batch (SendGrid's `[]`, a bounce naming nobody) needs no round trip to the database.
      if (parsed.events.length > 0 || parsed.quarantined.length > 0) refused = (await deps.ingest(parsed)) ?? refused;
    } catch (error) {
      // Our fault (the database is down, say): 503 so the provider delivers again later.
      logger.error({ err: error, webhook, events: parsed.events.length }, 'webhook events could not be stored');
      return reply.code(503).send({ error: 'could not store the events now; retry later' });
    }
    if (refused.lost > 0) {
      // The rest of the request is stored; retrying would fail the same way for these.
      return reply.code(400).send({ error: `${refused.lost} event(s) could not be stored; the others were`, received: parsed.events.length - refused.unstorable - refused.lost });
    }
    return reply.code(200).send({ received: parsed.events.length - refused.unstorable, quarantined: parsed.quarantined.length + refused.unstorable });
  }

  const rawBody = (request: FastifyRequest) => (Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));

  void server.register(async (scope) => {
    // Every content type as raw bytes: SNS sends text/plain, and signatures cover the exact bytes.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    scope.setErrorHandler((error: FastifyError, request, reply) => {
      const status = error.statusCode ?? 500;
      if (status === 413) {
        logger.warn({ url: request.url, status }, 'webhook body too large');
        return reply.code(413).send({ error: 'body too large' });
      }
      if (status >= 400 && status < 500) {
        logger.warn({ url: request.url, status, reason: error.message }, 'webhook request refused');
        return reply.code(status).send({ error: error.message.slice(0, 200) });
      }
      logger.error({ err: error, url: request.url }, 'webhook request failed');
      return reply.code(500).send({ error: 'internal error' });
    });

    scope.post('/webhooks/ses', { bodyLimit: SES_BODY_LIMIT }, async (request, reply) => {
      if (config.sesTopicArns.length === 0) return notConfigured(reply, 'SES webhook not configured: set SES_TOPIC_ARNS');
      const verified = await verifySnsDelivery(
        { body: rawBody(request).toString('utf8'), rawDeliveryHeader: request.headers['x-amz-sns-rawdelivery'] },
        { topicArns: config.sesTopicArns, certificates: deps.certificates },
      );
      if (!verified.ok) return refuse(reply, 'ses', verified);
      const envelope = verified.value;

      if (envelope.Type === 'SubscriptionConfirmation') {
        const url = subscribeUrlOf(envelope);
        if (!url.ok) return refuse(reply, 'ses', url);
        try {
          await deps.confirmSubscription(url.value);
        } catch (error) {
          logger.error({ err: error, topicArn: envelope.TopicArn }, 'SNS subscription could not be confirmed');
          return reply.code(503).send({ error: 'could not confirm the subscription now; retry later' });
        }
        logger.info({ topicArn: envelope.TopicArn }, 'SNS subscription confirmed');
        return reply.code(200).send({ confirmed: true });
      }
      if (envelope.Type === 'UnsubscribeConfirmation') {
        // We never unsubscribe ourselves, so this is somebody's change on the AWS side: worth a look.
        logger.warn({ topicArn: envelope.TopicArn }, 'SNS subscription removed; SES feedback will stop arriving');
        return reply.code(200).send({ acknowledged: true });
      }
      return ingest(reply, 'ses', parseSesNotification(envelope.Message, envelope.MessageId));
    });

    scope.post('/webhooks/sendgrid', { bodyLimit: SENDGRID_BODY_LIMIT }, async (request, reply) => {
      if (!sendgridKey) return notConfigured(reply, 'SendGrid webhook not configured: set SENDGRID_WEBHOOK_PUBLIC_KEY');
      const body = rawBody(request);
      const verified = verifySendgridSignature(
        sendgridKey,
        { signature: request.headers[SENDGRID_SIGNATURE], timestamp: request.headers[SENDGRID_TIMESTAMP] },
        body,
      );
      if (!verified.ok) return refuse(reply, 'sendgrid', verified);
      const parsed = await parseSendgridEvents(body);
      if (!parsed.ok) return refuse(reply, 'sendgrid', parsed);
      return ingest(reply, 'sendgrid', parsed.value);
    });

    scope.post('/webhooks/events', { bodyLimit: GENERIC_BODY_LIMIT }, async (request, reply) => {
      const secret = config.eventsSecret;
      if (!secret) return notConfigured(reply, 'events webhook not configured: set EVENTS_WEBHOOK_SECRET');
      const body = rawBody(request);
      const verified = verifyGenericSignature(
        secret,
        { signature: request.headers[GENERIC_SIGNATURE], timestamp: request.headers[GENERIC_TIMESTAMP] },
        body,
        clock(),
      );
      if (!verified.ok) return refuse(reply, 'generic', verified);
      const parsed = parseGenericEvents(body);
      if (!parsed.ok) return refuse(reply, 'generic', parsed);
      return ingest(reply, 'generic', parsed.value);
    });
  });
}
