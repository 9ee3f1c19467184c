import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { DEFAULT_HTTP_REQUEST_TIMEOUT_SECONDS } from '../config.js';
import type { Logger } from '../lib/logger.js';

export type ReadinessCheck = () => Promise<void>;

/**
 * Liveness, readiness, Slack and provider webhooks, all on one port. A request's headers must
 * arrive within 10 s (or the request timeout, if shorter) and the whole request, body included,
 * within `requestTimeoutMs`: a client trickling its body (a byte every few seconds, as a slowloris
 * does) is cut there (Node answers 408 when it can and closes the connection) instead of holding a
 * connection open for as long as it likes. Node checks every open connection against these once a
 * second. An idle keep-alive connection is closed after 72 s (Fastify's default).
 */
const HEADERS_TIMEOUT_MS = 10_000;
const CONNECTIONS_CHECK_MS = 1000;

export function createHttpServer(deps: {
  logger: Logger;
  checks: Record<string, ReadinessCheck>;
  checkTimeoutMs?: number;
  /** HTTP_REQUEST_TIMEOUT_SECONDS in milliseconds. */
  requestTimeoutMs?: number;
  /** Adapters' routes (Slack's `POST /slack/events`), registered by the composition root. */
  routes?: ((server: FastifyInstance) => void)[];
}): FastifyInstance {
  const requestTimeoutMs = deps.requestTimeoutMs ?? DEFAULT_HTTP_REQUEST_TIMEOUT_SECONDS * 1000;
  const server = Fastify({
    // Request logs at info would drown the log in health checks; problems still log at warn.
    loggerInstance: deps.logger.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    requestTimeout: requestTimeoutMs,
    http: { headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs), connectionsCheckingInterval: CONNECTIONS_CHECK_MS },
  });
  const timeoutMs = deps.checkTimeoutMs ?? 2000;

  server.get('/healthz', async () => ({ status: 'ok' }));

  server.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
            }),
          ]);
          return [name, { ok: true }] as const;
        } catch (error) {
          return [name, { ok: false, error: (error as Error).message }] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const ready = results.every(([, result]) => result.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) });
  });

  for (const register of deps.routes ?? []) register(server);

  return server;
}
