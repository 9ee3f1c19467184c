import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { DEFAULT_HTTP_REQUEST_TIMEOUT_SECONDS } from '../config.js';
import { ConfigError } from '../lib/config-error.js';
import type { Logger } from '../lib/logger.js';

/** One dependency `/readyz` asks: it answers (resolves) within the timeout, or the process is not ready. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
  /**
   * Reported in /readyz's body (marked `advisory`) without making it 503: the SMTP relay, since a
   * web process must keep taking Slack's cancel clicks while the relay is down.
   */
  advisory?: boolean;
}

/**
 * Liveness (`/healthz`), readiness (`/readyz`: each check's answer by name, 503 when any fails)
 * and the routes the composition root adds (Slack, webhooks, metrics). A request's headers must
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
  checks?: ReadinessCheck[];
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
    const advisory = new Set((deps.checks ?? []).filter((c) => c.advisory).map((c) => c.name));
    const results = await Promise.all(
      (deps.checks ?? []).map(async ({ name, check }) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
            }),
          ]);
          return [name, { ok: true, ...(advisory.has(name) ? { advisory: true } : {}) }] as const;
        } catch (error) {
          return [name, { ok: false, error: (error as Error).message, ...(advisory.has(name) ? { advisory: true } : {}) }] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const ready = results.every(([name, result]) => result.ok || advisory.has(name));
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) });
  });

  for (const register of deps.routes ?? []) register(server);

  return server;
}

/** Listens on the configured port; a port taken or forbidden is one line naming its variable. */
export async function listen(server: FastifyInstance, options: { port: number; host: string; variable: 'PORT' | 'HEALTH_PORT' }): Promise<string> {
  try {
    return await server.listen({ port: options.port, host: options.host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(options.variable, `(${options.port}) is already in use on ${options.host}: set ${options.variable} to a free port`);
    if (code === 'EACCES') throw new ConfigError(options.variable, `(${options.port}) may not be opened by this user on ${options.host}`);
    throw error;
  }
}
