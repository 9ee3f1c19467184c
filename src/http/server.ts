import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../lib/logger.js';

export type ReadinessCheck = () => Promise<void>;

/** Liveness, readiness, and (in later issues) Slack and provider webhooks, all on one port. */
export function createHttpServer(deps: {
  logger: Logger;
  checks: Record<string, ReadinessCheck>;
  /**
   * Reported in /readyz's body (marked `advisory`) without making it 503: the SMTP relay, since a
   * web process must keep taking Slack's cancel clicks while the relay is down.
   */
  advisoryChecks?: Record<string, ReadinessCheck>;
  checkTimeoutMs?: number;
  /** Adapters' routes (Slack's `POST /slack/events`), registered by the composition root. */
  routes?: ((server: FastifyInstance) => void)[];
}): FastifyInstance {
  const server = Fastify({
    // Request logs at info would drown the log in health checks; problems still log at warn.
    loggerInstance: deps.logger.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
  });
  const timeoutMs = deps.checkTimeoutMs ?? 2000;

  server.get('/healthz', async () => ({ status: 'ok' }));

  server.get('/readyz', async (_request, reply) => {
    const advisory = new Set(Object.keys(deps.advisoryChecks ?? {}));
    const results = await Promise.all(
      Object.entries({ ...deps.checks, ...deps.advisoryChecks }).map(async ([name, check]) => {
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
