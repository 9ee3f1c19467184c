import { Writable } from 'node:stream';
import pino from 'pino';
import { vi } from 'vitest';
import type { Config } from '../../../../src/config.js';
import type { ParsedFeedback } from '../../../../src/domain/feedback.js';
import { createHttpServer } from '../../../../src/http/server.js';
import { registerWebhookRoutes } from '../../../../src/http/webhooks/routes.js';
import { createCertificateStore, type CertificateFetcher } from '../../../../src/http/webhooks/sns-certificates.js';
import { SNS_CERT_PEM, TOPIC_ARN } from '../../../support/webhooks.js';

/**
 * The real HTTP server with the webhook routes, a fake `ingest` that records what it is given,
 * a certificate fetcher that serves the fixture certificate (and counts calls), and a logger whose
 * lines the test can read.
 */
export async function webhookServer(options: {
  config?: Partial<Config['webhooks']>;
  ingest?: (parsed: ParsedFeedback) => Promise<void>;
  fetchCertificate?: CertificateFetcher;
  confirmSubscription?: (url: string) => Promise<void>;
  clock?: () => Date;
} = {}) {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const ingested: ParsedFeedback[] = [];
  const ingest = vi.fn(options.ingest ?? (async (parsed: ParsedFeedback) => void ingested.push(parsed)));
  const fetchCertificate = vi.fn(options.fetchCertificate ?? (async () => SNS_CERT_PEM));
  const confirmSubscription = vi.fn(options.confirmSubscription ?? (async () => {}));

  const server = createHttpServer({ logger });
  // A JSON route outside the webhooks' context: it must keep fastify's normal JSON parsing.
  server.post('/echo', async (request) => ({ body: request.body }));
  registerWebhookRoutes(server, {
    config: { sesTopicArns: [TOPIC_ARN], sendgridPublicKey: undefined, eventsSecret: undefined, ...options.config },
    ingest,
    certificates: createCertificateStore({ fetchCertificate }),
    confirmSubscription,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  await server.ready();
  return { server, ingest, ingested, fetchCertificate, confirmSubscription, logs };
}

export const events = (ingested: ParsedFeedback[]) => ingested.flatMap((p) => p.events);
