import type { FastifyInstance } from 'fastify';
import type { SqlExecutor } from '../db/client.js';
import { openAlertCounts } from '../db/queries/alerts.js';
import { pendingPagerCounts } from '../db/queries/pager-outbox.js';
import { outboxLagSeconds, pendingOutboxCount } from '../db/queries/slack-outbox.js';
import { LEVELS, METRICS } from '../domain/thresholds.js';
import type { Metrics } from '../lib/metrics.js';
import type { ControlService } from '../services/control.js';

/** `GET /metrics` in Prometheus' text format. */
export function registerMetricsRoute(server: FastifyInstance, metrics: Metrics): void {
  server.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(body);
  });
}

/** A queue as the depth gauge reads it (a BullMQ queue is one). */
interface CountedQueue {
  readonly name: string;
  getJobCounts(...states: ('waiting' | 'active' | 'delayed' | 'failed')[]): Promise<Record<string, number>>;
}

/**
 * Gauges of shared state, read when scraped: queue depths (Redis), the Slack outbox's lag, the
 * pager events waiting and the open alerts (Postgres). Every process shows the same values: alert on their max.
 */
export function registerSharedGauges(metrics: Metrics, deps: { queues: Record<'prefetch' | 'batches' | 'send', CountedQueue>; sql: SqlExecutor }): void {
  metrics.gauge('campaign_guard_queue_jobs', 'Jobs in each queue, by state', ['queue', 'state'], async (set) => {
    for (const queue of [deps.queues.prefetch, deps.queues.batches, deps.queues.send]) {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
      for (const [state, n] of Object.entries(counts)) set({ queue: queue.name, state }, n);
    }
  });
  metrics.gauge('campaign_guard_slack_outbox_lag_seconds', 'Age of the oldest Slack message not delivered yet (0 when none waits)', [], async (set) => {
    set({}, await outboxLagSeconds(deps.sql));
  });
  metrics.gauge(
    'campaign_guard_alerts_open',
    'Alerts open now, by metric and severity (0 for each pair with none, so a rule can page on > 0)',
    ['metric', 'severity'],
    async (set) => {
      for (const metric of METRICS) {
        for (const severity of LEVELS.filter((level) => level !== 'ok')) set({ metric, severity }, 0);
      }
      for (const row of await openAlertCounts(deps.sql)) set({ metric: row.metric, severity: row.severity }, row.open);
    },
  );
  metrics.gauge('campaign_guard_slack_outbox_pending', 'Slack messages not delivered yet', [], async (set) => {
    set({}, await pendingOutboxCount(deps.sql));
  });
  metrics.gauge('campaign_guard_pager_outbox_pending', 'Pager events (PagerDuty, the alert webhook) not delivered yet, by destination', ['destination'], async (set) => {
    for (const row of await pendingPagerCounts(deps.sql)) set({ destination: row.destination }, row.pending);
  });
}

/** The cancellation service, with each cancel's latency observed by outcome. */
export function timedCancels(control: ControlService, metrics: Metrics): ControlService {
  return {
    ...control,
    async cancel(request) {
      const end = metrics.cancelSeconds.startTimer();
      try {
        const outcome = await control.cancel(request);
        end({ outcome: outcome.outcome });
        return outcome;
      } catch (error) {
        end({ outcome: 'error' });
        throw error;
      }
    },
  };
}
