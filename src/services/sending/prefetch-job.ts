import type { SqlExecutor } from '../../db/client.js';
import { beginPrefetch, finishPrefetch, prefetchNextChunks } from '../../db/queries/prefetch.js';
import type { Logger } from '../../lib/logger.js';

/**
 * Prefetch: materialises a deployment's audience into pending ledger rows, a bounded number of
 * chunks per statement, resuming from where a previous run stopped. Each statement runs only
 * while the deployment is still prefetching, so a cancel or pause stops it between chunks.
 */
export const PREFETCH_CHUNKS_PER_STATEMENT = 100; // ~10,000 recipients

export type PrefetchOutcome = 'prefetched' | 'stopped' | 'not-due';

export function createPrefetchProcessor(deps: { sql: SqlExecutor; logger: Logger; chunksPerStatement?: number }) {
  const chunks = deps.chunksPerStatement ?? PREFETCH_CHUNKS_PER_STATEMENT;
  return async function prefetch(deploymentId: string): Promise<PrefetchOutcome> {
    const begun = await beginPrefetch(deps.sql, deploymentId);
    if (!begun) return 'not-due';
    const started = Date.now();
    let rows = 0;
    for (;;) {
      const inserted = await prefetchNextChunks(deps.sql, deploymentId, chunks);
      if (inserted === undefined) {
        deps.logger.info({ deploymentId, rows }, 'prefetch stopped: the deployment is no longer prefetching');
        return 'stopped';
      }
      if (inserted === 0) break;
      rows += inserted;
    }
    if (await finishPrefetch(deps.sql, deploymentId)) {
      deps.logger.info({ deploymentId, rows, ms: Date.now() - started }, 'prefetched');
      return 'prefetched';
    }
    return 'stopped';
  };
}
