import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/client.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import { runEvery } from '../lib/periodic.js';
import { captureFaults, startSmtpSink, type SmtpSink } from '../mail/sink.js';
import { createSmtpTransport, smtpTimeouts, type RelayCheck, type Transport } from '../mail/transport.js';
import { createBatchProcessor } from '../services/sending/batch-job.js';
import { createDeploymentFaults } from '../services/sending/deployment-faults.js';
import { createPauseResume } from '../services/sending/pause-resume.js';
import { createLeaseKeeper } from '../services/sending/leases.js';
import { createPrefetchProcessor } from '../services/sending/prefetch-job.js';
import { createScheduler } from '../services/sending/scheduler.js';
import { createSendReconciler } from '../services/sending/reconciler.js';
import { createSendJobProcessor } from '../services/sending/send-job.js';
import { createRelayFaults } from '../services/sending/relay-faults.js';
import { createRelayHealth } from '../services/sending/relay-health.js';
import { batchJob, prefetchJob, QUEUES, sendJob, type BatchJob, type PrefetchJob, type SendJob } from './jobs.js';
import type { Queues } from './queues.js';
import { createRateLimiter } from './rate-limiter.js';
import { createRedis } from './redis.js';
import { createStopAnnouncer, createStopWatcher } from './stop-signal.js';
import { superviseWorker } from './worker-backoff.js';

/**
 * A worker process's sending machinery: BullMQ workers for prefetch, batch triggers and send
 * jobs, the scheduler tick, the lease heartbeat and sweeper, the stop watcher, the rate limiter
 * and the SMTP transport (or, with no SMTP_URL, a local capture sink). `stop()` stops claiming,
 * lets in-flight messages finish and their outcomes be recorded, and puts unfinished send jobs
 * back in the queue for the next worker.
 */
export interface SendingRuntime {
  workerId: string;
  smtpUrl: string;
  captureSink: SmtpSink | undefined;
  /** A session of its own with the relay (connect, TLS, EHLO, login): the readiness check's probe. */
  checkRelay(timeoutMs: number): Promise<RelayCheck>;
  stop(): Promise<void>;
}

/**
 * Send jobs of one batch a worker holds open at once. Its lanes are shared by the jobs it holds, so
 * a third job of a batch would only wait here while another worker's lanes stand idle: it is
 * handed back (delayed by HAND_BACK_MS) for a worker with room, or for this one once a job ends.
 */
const SEND_JOBS_OPEN_PER_BATCH = 2;
const HAND_BACK_MS = 100;

/** Send jobs a worker holds open at once: SEND_JOBS_OPEN_PER_BATCH of each of this many sending batches. */
const SEND_JOBS_OPEN = SEND_JOBS_OPEN_PER_BATCH * 64;

/** Puts a job back as delayed (not failed, no attempt used): BullMQ's way is to throw DelayedError. */
async function retryLater(job: Job, token: string | undefined, ms: number): Promise<never> {
  await job.moveToDelayed(Date.now() + ms, token);
  throw new DelayedError();
}

export async function startSendingRuntime(deps: {
  config: Config;
  database: DatabaseHandle;
  redisUrl: string;
  queues: Queues;
  logger: Logger;
  transport?: Transport;
  /** Called right before each hand-off to the transport (metrics, tests). */
  onHandOff?: (deploymentId: string) => void;
  metrics?: Metrics;
}): Promise<SendingRuntime> {
  const { config, database, logger } = deps;
  const prefix = config.redisPrefix;
  const workerId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const leaseSeconds = config.sending.leaseSeconds;
  const log = logger.child({ component: 'sending', workerId });

  let captureSink: SmtpSink | undefined;
  let smtpUrl = config.smtpUrl;
  if (!smtpUrl) {
    captureSink = await startSmtpSink({ faultFor: captureFaults, keep: 1000 });
    smtpUrl = captureSink.url;
    log.info({ smtpUrl }, 'no SMTP_URL: sending to a local capture sink (nothing leaves this machine)');
  }
  const transport = deps.transport ?? createSmtpTransport({ url: smtpUrl, connections: config.sending.concurrency, timeouts: smtpTimeouts(config.sending.smtpTimeoutSeconds) });

  const commands = createRedis(deps.redisUrl, 'commands', log);
  const subscriber = createRedis(deps.redisUrl, 'stops', log, { blocking: true });
  const workerConnection = createRedis(deps.redisUrl, 'workers', log, { blocking: true });
  const stops = createStopWatcher({ subscriber, prefix, sql: database.sql, logger: log });
  const rateLimiter = createRateLimiter({ redis: commands, prefix, ratePerSecond: config.sending.ratePerSecond, reserve: config.sending.concurrency });
  let shuttingDown = false;

  // What Campaign Guard itself pauses: a relay fault that persists, a deployment that cannot be sent as it is.
  const pauseResume = createPauseResume({ database, announcer: createStopAnnouncer({ redis: commands, prefix, logger: log }), batchQueue: deps.queues.batches });
  // A relay failing as a whole is waited out, recipients pending; if it persists, what is sending is paused.
  const relayFaults = createRelayFaults({ database, pauseResume, logger: log });
  const pausing = new Set<Promise<unknown>>();
  const relay = createRelayHealth({
    persistAfterMs: config.sending.relayFaultPauseSeconds * 1000,
    onStarted: (report) =>
      log.warn({ cause: report.cause, code: report.code }, `SMTP relay is failing (${report.cause}): recipients stay pending and are retried; sending deployments are paused if it lasts ${config.sending.relayFaultPauseSeconds} s`),
    onRecovered: () => log.info('SMTP relay answers again'),
    onPersistent: (report) => {
      const pause = relayFaults.pauseSending(report.cause)
        .catch((error) => log.error({ err: error, cause: report.cause }, 'could not pause for a relay fault; will try again if it persists'))
        .finally(() => pausing.delete(pause));
      pausing.add(pause);
    },
  });

  const prefetch = createPrefetchProcessor({ sql: database.sql, logger: log });
  const trigger = createBatchProcessor({ sql: database.sql, sendQueue: deps.queues.send });
  const send = createSendJobProcessor({
    database,
    transport,
    stops,
    rateLimiter,
    sendQueue: deps.queues.send,
    workerId,
    leaseSeconds,
    logger: log,
    shuttingDown: () => shuttingDown,
    relay,
    onHandOff: deps.onHandOff,
    onOutcome: deps.metrics ? (outcome) => deps.metrics!.handOffs.inc({ outcome }) : undefined,
    onLateHandOffs: deps.metrics ? (count) => deps.metrics!.postStopHandOffs.inc(count) : undefined,
    onDeploymentFault: createDeploymentFaults({ pauseResume, logger: log }),
    failpoints: config.failpoints,
  });
  const scheduler = createScheduler({
    sql: database.sql,
    prefetchQueue: deps.queues.prefetch,
    batchQueue: deps.queues.batches,
    leadSeconds: config.sending.prefetchLeadSeconds,
  });
  const leases = createLeaseKeeper({ database, workerId, leaseSeconds });
  const reconcile = createSendReconciler({ sql: database.sql, sendQueue: deps.queues.send });

  // A dead worker's open send jobs (a few per batch it was sending) go back to the queue at the
  // first stalled check after their lock expires: checked at least every 5 s, so its batches
  // resume about SEND_LEASE_SECONDS after the crash.
  const openPerBatch = new Map<string, number>();
  const common = { connection: workerConnection, prefix, lockDuration: leaseSeconds * 1000, stalledInterval: Math.min(5000, leaseSeconds * 1000), maxStalledCount: 1000 };
  const workers = [
    new Worker<PrefetchJob>(
      QUEUES.prefetch,
      async (job) => {
        const outcome = await prefetch(prefetchJob.parse(job.data).deploymentId);
        // Batches due now need not wait for the next tick.
        if (outcome === 'prefetched') await scheduler();
        return outcome;
      },
      { ...common, concurrency: 1 },
    ),
    new Worker<BatchJob>(
      QUEUES.batches,
      async (job: Job<BatchJob>, token?: string) => {
        const outcome = await trigger(batchJob.parse(job.data));
        if (!outcome.started && outcome.reason === 'not-ready') await retryLater(job, token, 1000);
        return outcome;
      },
      { ...common, concurrency: 4 },
    ),
    new Worker<SendJob>(
      QUEUES.send,
      async (job: Job<SendJob>, token?: string) => {
        const data = sendJob.parse(job.data);
        const held = openPerBatch.get(data.batchId) ?? 0;
        if (held >= SEND_JOBS_OPEN_PER_BATCH) await retryLater(job, token, HAND_BACK_MS);
        openPerBatch.set(data.batchId, held + 1);
        let result: Awaited<ReturnType<typeof send>>;
        try {
          result = await send(data);
        } finally {
          const left = (openPerBatch.get(data.batchId) ?? 1) - 1;
          if (left > 0) openPerBatch.set(data.batchId, left);
          else openPerBatch.delete(data.batchId);
        }
        // Unfinished because this worker is stopping: back to the queue for the next one.
        if (!result.finished && shuttingDown) await retryLater(job, token, 500);
        return result;
      },
      // Every sending batch has a few jobs queued at a time (SEND_JOBS_AHEAD), so a worker can hold
      // the jobs of many deployments open at once; their lanes share the slots fairly (lane-slots),
      // and a new deployment's first job is taken at once, whatever else is sending.
      { ...common, concurrency: SEND_JOBS_OPEN },
    ),
  ];
  const backoffs = workers.map((worker) => superviseWorker(worker, log));

  const periodic = [
    // Twice a second: a deployment sent `--now` is prefetched and starts within its first 2 s.
    runEvery(500, 'scheduler', scheduler, log),
    runEvery(Math.max(250, (leaseSeconds * 1000) / 3), 'lease-heartbeat', leases.renew, log),
    runEvery(Math.max(500, (leaseSeconds * 1000) / 2), 'lease-sweeper', leases.sweep, log),
    runEvery(Math.max(2000, leaseSeconds * 500), 'send-reconciler', async () => {
      const requeued = await reconcile();
      if (requeued > 0) log.warn({ requeued }, 'queued send jobs again that Redis had lost');
    }, log),
  ];
  log.info({ concurrency: transport.connections, ratePerSecond: config.sending.ratePerSecond }, 'sending runtime started');

  return {
    workerId,
    smtpUrl,
    captureSink,
    checkRelay: (timeoutMs) => transport.check(timeoutMs),
    async stop() {
      shuttingDown = true;
      await Promise.all(periodic.map((p) => p.stop()));
      for (const backoff of backoffs) backoff.stop();
      await Promise.all(workers.map((worker) => worker.close()));
      relay.close();
      await Promise.all([...pausing]);
      await stops.close();
      await transport.close();
      await captureSink?.close();
      for (const connection of [commands, subscriber, workerConnection]) connection.disconnect();
      log.info('sending runtime stopped');
    },
  };
}
