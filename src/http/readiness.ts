import type { SqlExecutor } from '../db/client.js';
import type { ReadinessCheck } from './server.js';

/**
 * What `/readyz` asks, on every process (web, worker, all): Postgres answers a query, Redis a
 * PING. A list, so a dependency joins it with one more entry (the SMTP relay, where a process
 * sends). Each check is bounded by the server's timeout.
 */
export function dependencyChecks(deps: { sql: SqlExecutor; redis: { ping(): Promise<unknown> } }): ReadinessCheck[] {
  return [
    {
      name: 'postgres',
      check: async () => {
        await deps.sql`select 1`;
      },
    },
    {
      name: 'redis',
      check: async () => {
        await deps.redis.ping();
      },
    },
  ];
}
