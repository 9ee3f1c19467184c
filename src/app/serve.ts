import { webApi } from '@slack/bolt';
import type { FastifyInstance } from 'fastify';
import type { ServeRole } from '../cli/context.js';
import type { Config } from '../config.js';
import { openDatabase } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { registerMetricsRoute, registerSharedGauges } from '../http/metrics.js';
import { dependencyChecks } from '../http/readiness.js';
import { createHttpServer, listen } from '../http/server.js';
import { registerWebhookRoutes } from '../http/webhooks/routes.js';
import { createCertificateStore } from '../http/webhooks/sns-certificates.js';
import { createSubscriptionConfirmer } from '../http/webhooks/sns.js';
import { DependencyMisconfigured, reachable } from '../lib/dependency-errors.js';
import type { Logger } from '../lib/logger.js';
import { createMetrics, type Metrics } from '../lib/metrics.js';
import { runEvery } from '../lib/periodic.js';
import { parseSmtpUrl } from '../lib/smtp-url.js';
import { createRelayReadiness, type RelayReadiness } from '../mail/relay-readiness.js';
import { createSmtpTransport, smtpTimeouts } from '../mail/transport.js';
import { createPagerDeliverer, type PagerDeliverer } from '../paging/deliverer.js';
import { createPagerDutySender } from '../paging/pagerduty.js';
import { createWebhookSender } from '../paging/webhook.js';
import { createQueues } from '../queue/queues.js';
import { createRedis, evictionPolicy, whenReady } from '../queue/redis.js';
import { createSeenKeys } from '../queue/seen-keys.js';
import { createStopAnnouncer } from '../queue/stop-signal.js';
import { createAlertMonitor, policyFromConfig } from '../services/alerts/monitor.js';
import { createFeedbackIngestor } from '../services/feedback/ingest.js';
import { checkSlackToken, createSlackApp, type SlackApp } from '../slack/app.js';
import { registerSlackRoute } from '../slack/front-door.js';
import { createNotifier, type Notifier } from '../slack/notifier.js';
import { createSharedReplayGuard } from '../slack/replay-guard.js';
import { createLogWriter, createWebWriter, webApiOptions, type SlackWriter } from '../slack/writer.js';
import { resolveInfrastructure, type Infrastructure } from './infrastructure.js';
import { startSendingRuntime, type SendingRuntime } from './sending-runtime.js';
import { buildServices, type Services } from './services.js';

/**
 * `serve`: by role, the HTTP server (web), the sending runtime (worker), or both, with the
 * clients they need. Part of the composition root (src/app/), the only place that connects
 * clients and builds services.
 */
export interface RunningApp {
  /** Where this process answers HTTP: PORT (web, all), or a worker's HEALTH_PORT (health and metrics only). */
  url: string;
  metrics: Metrics;
  slack: SlackApp | undefined;
  notifier: Notifier | undefined;
  /** The pager outbox's deliverer (workers, when PagerDuty or the alert webhook is configured). */
  pager: PagerDeliverer | undefined;
  runtime: SendingRuntime | undefined;
  infrastructure: Infrastructure;
  services: Services;
  /** The SMTP relay's readiness check (absent when nothing is configured to send to). */
  relayReadiness: RelayReadiness | undefined;
  stop(): Promise<void>;
}

/**
 * The relay check of this process: through the sending runtime's transport (the capture sink's
 * too), or, in a web process, a transport of its own used for nothing else.
 */
function relayReadinessFor(config: Config, runtime: SendingRuntime | undefined, logger: Logger, closers: (() => Promise<void>)[]): RelayReadiness | undefined {
  const url = runtime?.smtpUrl ?? config.smtpUrl;
  if (!url) return undefined;
  let probe = runtime?.checkRelay;
  if (!probe) {
    const transport = createSmtpTransport({ url, connections: 1, timeouts: smtpTimeouts(config.sending.smtpTimeoutSeconds) });
    closers.push(() => transport.close());
    probe = transport.check;
  }
  const parsed = parseSmtpUrl(url);
  return createRelayReadiness({ probe, timeoutMs: config.sending.relayCheckTimeoutSeconds * 1000, relay: parsed.ok ? parsed.settings.display : 'SMTP_URL', logger });
}

/** Knobs for tests and benchmarks; production uses the defaults. */
export interface SlackTuning {
  /** Web API retries (tests: 0, so a failing call fails at once). */
  retries?: number;
  /** Gap between two outbox messages to one channel (about 1/s by default). */
  pacingMs?: number;
  homeThrottleMs?: number;
}

/** A pager's answer is awaited this long before the attempt counts as failed and is retried. */
const PAGER_TIMEOUT_MS = 10_000;

/**
 * `serve`: migrate, then by role the HTTP server (web), the sending runtime (worker), or both.
 * Slack: the outbox notifier runs with the workers (it logs messages when Slack is off); the Bolt
 * app runs where the HTTP server does (its route, or a Socket Mode connection). The pager
 * deliverer runs with the workers when a pager is configured.
 */
export async function startApp(config: Config, logger: Logger, options: { role: ServeRole; slack?: SlackTuning; slackOffWriter?: SlackWriter }): Promise<RunningApp> {
  // A Slack token Slack refuses stops the start before anything else starts.
  const slackAuth = config.slack.mode === 'off' ? undefined : await checkSlackToken(config.slack);
  const infrastructure = await resolveInfrastructure(config, logger, { redis: true });
  const closers: (() => Promise<void>)[] = [() => infrastructure.stop()];
  const stop = async () => {
    for (const close of closers.splice(0).reverse()) {
      await close().catch((error) => logger.warn({ err: error }, 'error while stopping'));
    }
  };
  try {
    await reachable('Postgres', 'DATABASE_URL', () => runMigrations(infrastructure.databaseUrl));
    const database = await reachable('Postgres', 'DATABASE_URL', () => openDatabase(infrastructure.databaseUrl, { max: 10, applicationName: `campaign-guard-${options.role}` }));
    closers.push(() => database.close());
    const redisUrl = infrastructure.redisUrl!;
    const readiness = createRedis(redisUrl, `readiness-${options.role}`, logger);
    closers.push(async () => readiness.disconnect());
    await reachable('Redis', 'REDIS_URL', () => whenReady(readiness));
    const policy = await evictionPolicy(readiness);
    if (policy === undefined) logger.warn('could not read Redis maxmemory-policy (CONFIG is not allowed); it must be noeviction, or queued jobs can be lost');
    else if (policy !== 'noeviction') {
      throw new DependencyMisconfigured('Redis', 'REDIS_URL', `has maxmemory-policy ${policy}; set it to noeviction (CONFIG SET maxmemory-policy noeviction), or queued jobs can be evicted and lost`);
    }
    const queueConnection = createRedis(redisUrl, `queues-${options.role}`, logger, { blocking: true });
    const queues = createQueues(queueConnection, config.redisPrefix);
    closers.push(async () => {
      await queues.close();
      queueConnection.disconnect();
    });

    const announcer = createStopAnnouncer({ redis: readiness, prefix: config.redisPrefix, logger });
    const metrics = createMetrics();
    const services = buildServices(database, { announcer, batchQueue: queues.batches, logger, alertDefaults: policyFromConfig(config.alerts), metrics });
    registerSharedGauges(metrics, { queues, sql: database.sql });
    closers.push(() => services.close());

    const feedback = createFeedbackIngestor({ database, logger, onQuarantined: (provider, cause, count) => metrics.feedbackQuarantined.inc({ provider, cause }, count) });
    closers.push(() => feedback.drain());

    let runtime: SendingRuntime | undefined;
    if (options.role !== 'web') {
      runtime = await startSendingRuntime({ config, database, redisUrl, queues, logger, metrics });
      closers.push(() => runtime!.stop());
      const monitor = createAlertMonitor({
        database,
        policy: policyFromConfig(config.alerts),
        windowSeconds: config.alerts.windowSeconds,
        pauseResume: services.pauseResume,
        logger,
      });
      const tick = async () => {
        for (const c of await monitor.tick()) metrics.alerts.inc({ metric: c.metric, severity: c.severity, change: c.change });
      };
      const loops = [runEvery(250, 'alert-monitor', tick, logger), runEvery(5000, 'feedback-orphans', () => feedback.retryOrphans(), logger)];
      closers.push(async () => {
        await Promise.all(loops.map((loop) => loop.stop()));
      });
    }

    // The relay this process sends to (or, for the web role, would): checked at start and in /readyz.
    const relayReadiness = relayReadinessFor(config, runtime, logger, closers);
    void relayReadiness?.refresh();

    let notifier: Notifier | undefined;
    if (options.role !== 'web') {
      const writer =
        config.slack.mode === 'off'
          ? (options.slackOffWriter ?? createLogWriter(logger))
          : createWebWriter(new webApi.WebClient(config.slack.botToken, { ...webApiOptions(config.slack.apiUrl, 0), logLevel: webApi.LogLevel.ERROR }));
      const alertChannel = config.slack.mode === 'off' ? 'log' : config.slack.alertChannel;
      if (config.slack.mode !== 'off' && !alertChannel) logger.warn('SLACK_ALERT_CHANNEL is not set: alerts and confirmations without an alert thread cannot be posted');
      const started = createNotifier({ sql: database.sql, writer, alertChannel, logger, pacingMs: options.slack?.pacingMs });
      started.start();
      notifier = started;
      closers.push(() => started.stop());
    }

    // The pagers: with the workers, whatever Slack's mode (an alert must reach someone with Slack off).
    let pager: PagerDeliverer | undefined;
    const { pagerDuty, webhook } = config.onCall;
    if (options.role !== 'web' && (pagerDuty || webhook)) {
      const started = createPagerDeliverer({
        sql: database.sql,
        senders: [
          ...(pagerDuty ? [createPagerDutySender({ ...pagerDuty, timeoutMs: PAGER_TIMEOUT_MS })] : []),
          ...(webhook ? [createWebhookSender({ ...webhook, timeoutMs: PAGER_TIMEOUT_MS })] : []),
        ],
        links: { ...config.onCall.links, slackWorkspaceUrl: slackAuth?.url },
        logger,
        onSettled: (destination, action, outcome) => metrics.pagerEvents.inc({ destination, action, outcome }),
      });
      started.start();
      pager = started;
      closers.push(() => started.stop());
    }

    let slack: SlackApp | undefined;
    // Slack's replay memory, shared by every web process through Redis (and kept across restarts).
    const seenBefore = createSharedReplayGuard({ claim: createSeenKeys(readiness, config.redisPrefix).claim, logger });
    if (options.role !== 'worker' && config.slack.mode !== 'off') {
      const created = await createSlackApp({
        seenBefore,
        slack: config.slack,
        services,
        sql: database.sql,
        logger,
        outboxChanged: () => notifier?.kick(),
        auth: slackAuth,
        retries: options.slack?.retries,
        homeThrottleMs: options.slack?.homeThrottleMs,
      });
      await created.start();
      slack = created;
      closers.push(() => created.stop());
    }

    // What /readyz asks, wherever it is served (the relay joins this list where a process sends).
    const checks = [...dependencyChecks({ sql: database.sql, redis: readiness }), ...(relayReadiness ? [{ name: 'relay', check: relayReadiness.check, advisory: true }] : [])];
    let url: string | undefined;
    if (options.role !== 'worker') {
      const slackConfig = config.slack;
      const dispatch = slack?.dispatch;
      const server = createHttpServer({
        routes: [
          ...(slackConfig.mode === 'http' && dispatch ? [(s: FastifyInstance) => registerSlackRoute(s, { signingSecret: slackConfig.signingSecret!, dispatch, logger, seenBefore })] : []),
          (s: FastifyInstance) => registerMetricsRoute(s, metrics),
        ],
        logger,
        requestTimeoutMs: config.http.requestTimeoutSeconds * 1000,
        checks,
      });
      registerWebhookRoutes(server, {
        config: config.webhooks,
        ingest: (parsed) => feedback.ingest(parsed),
        certificates: createCertificateStore(),
        confirmSubscription: createSubscriptionConfirmer(),
        logger,
      });
      url = await listen(server, { port: config.http.port, host: config.http.host, variable: 'PORT' });
      // Stop accepting requests before anything else stops.
      closers.push(() => server.close());
    } else {
      // A worker answers health checks and scrapes on a port of its own (HEALTH_PORT, not PORT).
      const server = createHttpServer({ routes: [(s: FastifyInstance) => registerMetricsRoute(s, metrics)], logger, checks, requestTimeoutMs: config.http.requestTimeoutSeconds * 1000 });
      url = await listen(server, { port: config.http.healthPort, host: config.http.host, variable: 'HEALTH_PORT' });
      closers.push(() => server.close());
    }
    logger.info({ url, role: options.role, slack: config.slack.mode, embeddedPostgres: infrastructure.embedded.postgres, embeddedRedis: infrastructure.embedded.redis, envFile: config.envFile }, 'campaign guard is serving');
    return { url, infrastructure, services, runtime, slack, notifier, pager, metrics, relayReadiness, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
