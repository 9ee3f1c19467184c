import { loadConfig, type Config } from '../../src/config.js';
import { startBatch } from '../../src/db/queries/batch-start.js';
import { createLogger, type Logger } from '../../src/lib/logger.js';
import { createQueues } from '../../src/queue/queues.js';
import type { Transport } from '../../src/services/ports.js';
import { createRedis } from '../../src/queue/redis.js';
import { startSendingRuntime, type SendingRuntime } from '../../src/app/sending-runtime.js';
import { createStopAnnouncer } from '../../src/queue/stop-signal.js';
import { createPauseResume } from '../../src/services/sending/pause-resume.js';
import { createPrefetchProcessor } from '../../src/services/sending/prefetch-job.js';
import { createControlService } from '../../src/services/control.js';
import { audienceCsv, createCampaignOrThrow } from './builders.js';
import type { TestDatabase } from './database.js';
import { redisUrl, uniquePrefix } from './database.js';

export const testLogger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

export function testConfig(database: TestDatabase, env: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl(),
    REDIS_PREFIX: uniquePrefix('cg'),
    SEND_CONCURRENCY: '4',
    SEND_RATE_PER_SECOND: '100000',
    SEND_LEASE_SECONDS: '3',
    PREFETCH_LEAD_SECONDS: '0',
    ...env,
  });
}

/** A worker in this process, plus the producer side (queues, pause/resume) a web process would have. */
export async function startWorker(database: TestDatabase, config: Config, hooks: { onHandOff?: (deploymentId: string) => void; transport?: Transport; logger?: Logger } = {}) {
  const queueConnection = createRedis(config.redisUrl!, 'test-queues', testLogger, { blocking: true });
  const queues = createQueues(queueConnection, config.redisPrefix);
  const announceConnection = createRedis(config.redisUrl!, 'test-announce', testLogger);
  const announcer = createStopAnnouncer({ redis: announceConnection, prefix: config.redisPrefix, logger: testLogger });
  const runtime: SendingRuntime = await startSendingRuntime({ config, database, redisUrl: config.redisUrl!, queues, ...hooks, logger: hooks.logger ?? testLogger });
  const control = createPauseResume({ database, announcer, batchQueue: queues.batches });
  const cancellation = createControlService({ database, announcer, pauseResume: control, logger: testLogger });
  return {
    runtime,
    queues,
    control,
    cancellation,
    async stop() {
      await runtime.stop();
      await queues.close();
      queueConnection.disconnect();
      announceConnection.disconnect();
    },
  };
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, { timeoutMs = 20_000, everyMs = 50, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export async function deploymentRow(database: TestDatabase, id: string) {
  const [row] = await database.sql`select * from deployments where id = ${id}`;
  return row!;
}

export async function ledgerCounts(database: TestDatabase, deploymentId: string) {
  const rows = await database.sql<{ status: string; n: number }[]>`select status, count(*)::int as n from deliveries where deployment_id = ${deploymentId} group by status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** The environment of a `serve --role worker` process for this test. */
export function workerEnv(config: Config, database: TestDatabase, smtpUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    REDIS_URL: config.redisUrl!,
    REDIS_PREFIX: config.redisPrefix,
    SMTP_URL: smtpUrl,
    SEND_CONCURRENCY: String(config.sending.concurrency),
    SEND_RATE_PER_SECOND: String(config.sending.ratePerSecond),
    SEND_LEASE_SECONDS: String(config.sending.leaseSeconds),
    PREFETCH_LEAD_SECONDS: '0',
    // Each worker process of a test answers health checks on a port of its own.
    HEALTH_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ...extra,
  };
}

/** What the sink received for one deployment: delivery tag → copies. */
export function sinkCopies(byDelivery: Map<string, number>, deploymentId: string): Map<number, number> {
  const copies = new Map<number, number>();
  for (const [tag, n] of byDelivery) {
    if (tag.startsWith(`${deploymentId}.`)) copies.set(Number(tag.slice(deploymentId.length + 1)), n);
  }
  return copies;
}

/** A deployment of `recipients` prefetched, with its one batch sending (no worker involved). */
export async function sendingBatch(database: TestDatabase, recipients: number) {
  const { deploymentIds } = await createCampaignOrThrow(database, { csv: audienceCsv(recipients), sendAt: new Date() });
  const deploymentId = deploymentIds[0]!;
  await createPrefetchProcessor({ sql: database.sql, logger: testLogger })(deploymentId);
  const [batch] = await database.sql<{ id: string }[]>`select id from batches where deployment_id = ${deploymentId}`;
  const range = (await startBatch(database.sql, batch!.id))!;
  return { deploymentId, batchId: batch!.id, range };
}
