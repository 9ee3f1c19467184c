import { z } from 'zod';
import { WATCHED_STATUSES } from '../../domain/alert-states.js';
import { PAUSABLE } from '../../domain/lifecycle.js';
import {
  applyOverride,
  evaluate,
  metricStats,
  METRICS,
  QUIET,
  totals,
  type Metric,
  type MetricTotals,
  type AlertSettings,
  type Policy,
  type PolicyOverride,
  type WatchState,
} from '../../domain/thresholds.js';
import type { DatabaseHandle, SqlExecutor } from '../../db/client.js';
import {
  baselines,
  escalateAlert,
  insertAlert,
  markAutoPaused,
  pruneSamples,
  recordSamples,
  resolveAlert,
  saveWatches,
  topBouncingDomains,
  watchedDeployments,
  watchesFor,
  type AlertFacts,
  type WatchedDeployment,
} from '../../db/queries/alerts.js';
import { enqueuePagerFollowUp } from '../../db/queries/pager-outbox.js';
import { enqueueAlertChange } from '../../db/queries/slack-outbox.js';
import { newId } from '../../lib/ids.js';
import type { Logger } from '../../lib/logger.js';
import type { createPauseResume } from '../sending/pause-resume.js';

/**
 * Watches every live deployment's rates and turns the policy's verdicts into alerts: one record
 * per (deployment, metric) spike, escalated and resolved in place, each change with its Slack
 * outbox row in the same transaction. Any number of processes may run it: a tick runs under a
 * transaction-scoped advisory lock, and all state (watches, window baselines) is in Postgres, so
 * whichever process takes the next tick carries on where the last one stopped.
 */
export interface AlertChange {
  alertId: string;
  deploymentId: string;
  metric: Metric;
  change: 'opened' | 'escalated' | 'resolved';
  severity: 'warning' | 'critical';
  rate: number;
  sample: number;
}

export interface AlertMonitor {
  /** One look at every watched deployment; returns the alert changes it committed (none if another process holds the tick). */
  tick(): Promise<AlertChange[]>;
}

export const SYSTEM_ACTOR = 'campaign-guard';
const MONITOR_LOCK = 0x63_67_61_6c; // "cgal"

const rate = z.number().gt(0).lte(1);
const overrideSchema = z
  .object({
    minSample: z.number().int().min(1).optional(),
    sustainSeconds: z.number().int().min(0).max(86_400).optional(),
    autoPauseOnCritical: z.boolean().optional(),
    thresholds: z.partialRecord(z.enum(METRICS), z.object({ warn: rate.optional(), critical: rate.optional() }).strict()).optional(),
  })
  .strict();

/** A campaign's stored override, checked; a bad one is ignored (with a warning), never fatal to the monitor. */
export function parsePolicyOverride(value: unknown): { ok: true; override: PolicyOverride | null } | { ok: false; reason: string } {
  if (value === null || value === undefined) return { ok: true, override: null };
  const parsed = overrideSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || 'policy'}: ${i.message}`).join('; ') };
  return { ok: true, override: parsed.data as PolicyOverride };
}

const THRESHOLD_OF = (policy: Policy, metric: Metric, severity: 'warning' | 'critical') =>
  severity === 'critical' ? policy.thresholds[metric].critical : policy.thresholds[metric].warn;

function allStats(now: MetricTotals, base: MetricTotals | null) {
  return Object.fromEntries(
    METRICS.map((m) => {
      const s = metricStats(now, base, m);
      return [m, { rate: s.sample > 0 ? s.count / s.sample : null, sample: s.sample, windowRate: s.windowSample > 0 ? s.windowCount / s.windowSample : null, windowSample: s.windowSample }];
    }),
  );
}

export function createAlertMonitor(deps: {
  database: DatabaseHandle;
  policy: Policy;
  windowSeconds: number;
  pauseResume?: Pick<ReturnType<typeof createPauseResume>, 'pause'>;
  logger: Logger;
}): AlertMonitor {
  const { sql } = deps.database;
  const log = deps.logger.child({ component: 'alert-monitor' });
  let previous: string[] = [];
  let lastSampleSecond = 0;
  let lastPrune = 0;
  const badOverrides = new Set<string>();

  function policyFor(row: WatchedDeployment): Policy {
    const parsed = parsePolicyOverride(row.alert_policy);
    const applied = parsed.ok ? applyOverride(deps.policy, parsed.override) : parsed;
    if (applied.ok) return applied.policy;
    if (!badOverrides.has(row.campaign_id)) {
      badOverrides.add(row.campaign_id);
      log.warn({ campaignId: row.campaign_id, reason: applied.reason }, 'ignoring an invalid per-campaign alert policy; using the defaults');
    }
    return deps.policy;
  }

  async function tickInTransaction(tx: SqlExecutor): Promise<{ changes: AlertChange[]; autoPause: AlertChange[] }> {
    const [lock] = await tx<{ locked: boolean; now: string }[]>`select pg_try_advisory_xact_lock(${MONITOR_LOCK}) as locked, now() as now`;
    if (!lock!.locked) return { changes: [], autoPause: [] };
    const now = new Date(lock!.now);
    const rows = await watchedDeployments(tx, deps.windowSeconds, previous);
    previous = rows.filter((r) => (WATCHED_STATUSES as readonly string[]).includes(r.status)).map((r) => r.id);
    if (rows.length === 0) return { changes: [], autoPause: [] };
    const ids = rows.map((r) => r.id);
    const base = new Map((await baselines(tx, ids, deps.windowSeconds)).map((b) => [b.deployment_id, totals({ sent: b.sent, bounced: b.bounced, failed: b.errors, unknown: 0, complaints: b.complaints })]));
    const watches = new Map((await watchesFor(tx, ids)).map((w) => [`${w.deployment_id}/${w.metric}`, { level: w.level, candidate: w.candidate, candidateSince: w.candidate_since ? new Date(w.candidate_since) : null } satisfies WatchState]));

    const changedWatches: Parameters<typeof saveWatches>[1] = [];
    const changes: AlertChange[] = [];
    const autoPause: AlertChange[] = [];
    for (const row of rows) {
      const policy = policyFor(row);
      const current = totals({ sent: row.sent_count, bounced: row.bounced_count, failed: row.failed_count, unknown: row.unknown_count, complaints: row.complaint_count });
      const baseline = base.get(row.id) ?? null;
      let stats: Record<string, unknown> | undefined;
      for (const metric of METRICS) {
        const before = watches.get(`${row.id}/${metric}`) ?? QUIET;
        const result = evaluate(metricStats(current, baseline, metric), policy.thresholds[metric], policy, before, now);
        const n = result.next;
        if (n.level !== before.level || n.candidate !== before.candidate || n.candidateSince?.getTime() !== before.candidateSince?.getTime()) {
          changedWatches.push({ deploymentId: row.id, metric, ...n });
        }
        if (!result.transition || !result.observation) continue;
        stats ??= allStats(current, baseline);
        const obs = result.observation;
        if (result.transition === 'resolved') {
          const resolved = await resolveAlert(tx, row.id, metric, obs.rate, obs.sample, stats);
          if (!resolved) continue;
          await enqueueAlertChange(tx, resolved.id, 'resolved', `alert:${resolved.id}:resolved:${resolved.severity}`);
          await enqueuePagerFollowUp(tx, { alertIds: [resolved.id] }, 'resolve');
          changes.push({ alertId: resolved.id, deploymentId: row.id, metric, change: 'resolved', severity: resolved.severity as 'warning' | 'critical', rate: obs.rate, sample: obs.sample });
          continue;
        }
        const severity = n.level as 'warning' | 'critical';
        const facts: AlertFacts = { metric, severity, rate: obs.rate, sample: obs.sample, threshold: THRESHOLD_OF(policy, metric, severity), stats, topDomains: metric === 'bounce' ? await topBouncingDomains(tx, row.id) : [] };
        let alertId = result.transition === 'escalated' ? await escalateAlert(tx, row.id, facts) : undefined;
        let change: 'opened' | 'escalated' = 'escalated';
        if (!alertId) {
          // Opened (or escalated with no open record left, e.g. resolved by hand): a new record.
          alertId = newId('alert');
          change = 'opened';
          await insertAlert(tx, alertId, row.id, facts);
        }
        await enqueueAlertChange(tx, alertId, change, change === 'opened' ? `alert:${alertId}:opened` : `alert:${alertId}:escalated:${severity}`);
        const done: AlertChange = { alertId, deploymentId: row.id, metric, change, severity, rate: obs.rate, sample: obs.sample };
        changes.push(done);
        if (severity === 'critical' && policy.autoPauseOnCritical && (PAUSABLE.single as readonly string[]).includes(row.status)) autoPause.push(done);
      }
    }
    await saveWatches(tx, changedWatches);

    const second = Math.floor(now.getTime() / 1000);
    if (second !== lastSampleSecond) {
      lastSampleSecond = second;
      await recordSamples(tx, rows);
    }
    if (now.getTime() - lastPrune > 30_000) {
      lastPrune = now.getTime();
      await pruneSamples(tx, deps.windowSeconds + 60);
    }
    return { changes, autoPause };
  }

  /** Pauses through the pause service (reversible, audited as Campaign Guard), then says so on the alert. */
  async function autoPause(change: AlertChange) {
    if (!deps.pauseResume) return;
    const outcome = await deps.pauseResume.pause({ deploymentId: change.deploymentId }, SYSTEM_ACTOR);
    if (!outcome.ok) {
      log.info({ deploymentId: change.deploymentId, reason: outcome.reason }, 'auto-pause not applied');
      return;
    }
    const note = `Paused automatically by Campaign Guard at ${new Date().toISOString()} (critical ${change.metric} rate); resume when it is safe.`;
    await sql.begin(async (tx) => {
      await markAutoPaused(tx, change.alertId, note);
      await enqueueAlertChange(tx, change.alertId, 'auto_paused', `alert:${change.alertId}:auto_paused`);
    });
    log.warn({ deploymentId: change.deploymentId, alertId: change.alertId }, 'deployment auto-paused on a critical alert');
  }

  return {
    async tick() {
      const { changes, autoPause: toPause } = (await sql.begin((tx) => tickInTransaction(tx))) as { changes: AlertChange[]; autoPause: AlertChange[] };
      for (const change of changes) {
        log.warn({ ...change, rate: Number(change.rate.toFixed(4)) }, `alert ${change.change}: ${change.metric} rate ${(change.rate * 100).toFixed(1)}% over ${change.sample} messages`);
      }
      for (const change of toPause) {
        await autoPause(change).catch((error) => log.error({ err: error, deploymentId: change.deploymentId }, 'auto-pause failed'));
      }
      return changes;
    },
  };
}

/** The policy defaults from configuration. */
export function policyFromConfig(alerts: Omit<AlertSettings, 'windowSeconds'>): Policy {
  return {
    thresholds: { bounce: alerts.bounceRate, error: alerts.errorRate, complaint: alerts.complaintRate },
    minSample: alerts.minSample,
    sustainSeconds: alerts.sustainSeconds,
    resolveRatio: 0.8,
    autoPauseOnCritical: alerts.autoPauseOnCritical,
  };
}
