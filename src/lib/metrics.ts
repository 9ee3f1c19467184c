import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * What an operator graphs and alerts on, per process (`GET /metrics`, Prometheus text format):
 * hand-offs by outcome, hand-offs that slipped past a stop, cancel latency, alert changes, queue
 * depths, how long the oldest Slack message has waited, and pager events delivered and waiting. Counters are this process's own; the
 * gauges read shared state (Redis, Postgres) when scraped.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'campaign_guard_' });
  const registers = [registry];
  return {
    registry,
    handOffs: new Counter({
      name: 'campaign_guard_handoffs_total',
      help: 'Messages handed to the SMTP transport, by outcome (released: claimed, then given back untouched because the deployment stopped)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    postStopHandOffs: new Counter({
      name: 'campaign_guard_post_stop_handoffs_total',
      help: 'Hand-offs made after a cancel or pause had committed, before this worker heard of it',
      registers,
    }),
    cancelSeconds: new Histogram({
      name: 'campaign_guard_cancel_seconds',
      help: 'From a cancel request to its committed, announced outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    alerts: new Counter({
      name: 'campaign_guard_alerts_total',
      help: 'Alert changes made by the monitor in this process',
      labelNames: ['metric', 'severity', 'change'] as const,
      registers,
    }),
    feedbackQuarantined: new Counter({
      name: 'campaign_guard_feedback_quarantined_total',
      help: 'Provider feedback kept aside for a person instead of counted, by provider and cause (unreadable: not understood; unstorable: the database refused it as it was)',
      labelNames: ['provider', 'cause'] as const,
      registers,
    }),
    pagerEvents: new Counter({
      name: 'campaign_guard_pager_events_total',
      help: 'Pager events (PagerDuty, the alert webhook) settled by this process, by destination, action and outcome (delivered, or failed for good)',
      labelNames: ['destination', 'action', 'outcome'] as const,
      registers,
    }),
    /** Gauges whose value is read when scraped. */
    gauge(name: string, help: string, labelNames: string[], collect: (set: (labels: Record<string, string>, value: number) => void) => Promise<void>) {
      return new Gauge({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          this.reset();
          await collect((labels, value) => this.set(labels, value));
        },
      });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
