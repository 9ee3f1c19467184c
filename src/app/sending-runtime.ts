import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/client.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import { runEvery } from '../lib/periodic.js';
import { captureFaults, startSmtpSink, type SmtpSink } from '../mail/sink.js';
import { createSmtpTransport, smtpTimeouts } from '../mail/transport.js';
import type { Queues } from '../queue/queues.js';
import { createRateLimiter } from '../queue/rate-limiter.js';
import { createRedis } from '../queue/redis.js';
import { createStopAnnouncer, createStopWatcher } from '../queue/stop-signal.js';
import { startSendingWorkers } from '../queue/workers.js';
import type { RelayCheck, Transport } from '../services/ports.js';
import { createBatchProcessor } from '../services/sending/batch-job.js';
import { createDeploymentFaults } from '../services/sending/deployment-faults.js';
import { createLeaseKeeper } from '../services/sending/leases.js';
import { createPauseResume } from '../services/sending/pause-resume.js';
import { createPrefetchProcessor } from '../services/sending/prefetch-job.js';
import { createSendReconciler } from '../services/sending/reconciler.js';
import { createRelayFaults } from '../services/sending/relay-faults.js';
import { createRelayHealth } from '../services/sending/relay-health.js';
import { createScheduler } from '../services/sending/scheduler.js';
import { createSendJobProcessor } from '../services/sending/send-job.js';

/**
 * Part of the composition root: a worker process's sending machinery, built here from the
 * adapters and the sending services. BullMQ workers for prefetch, batch triggers and send
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

  const workers = startSendingWorkers({
    connection: workerConnection,
    prefix,
    leaseSeconds,
    processors: { prefetch, schedule: scheduler, trigger, send },
    shuttingDown: () => shuttingDown,
    logger: log,
  });

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
      await workers.close();
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
