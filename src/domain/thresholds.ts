/**
 * The alert policy: when does a rate deserve a responder's attention? Pure, so the whole table of
 * cases (sample, sustain, hysteresis, escalation, resolution) is tested without a clock or a database.
 */
export const METRICS = ['bounce', 'error', 'complaint'] as const;
export type Metric = (typeof METRICS)[number];

export const LEVELS = ['ok', 'warning', 'critical'] as const;
export type Level = (typeof LEVELS)[number];

export interface MetricThresholds {
  warn: number;
  critical: number;
}

export interface Policy {
  thresholds: Record<Metric, MetricThresholds>;
  /** Messages observed before any verdict: five bounces out of twenty is noise, not an incident. */
  minSample: number;
  /** How long a level must hold (up or down) before the alert changes. 0: at once. */
  sustainSeconds: number;
  /**
   * Hysteresis: an open alert resolves only once the rate is below `warn × resolveRatio`, so a
   * rate hovering at the threshold does not open and resolve the alert over and over.
   */
  resolveRatio: number;
  autoPauseOnCritical: boolean;
}

/** The alert settings an operator configures (ALERT_* and the *_RATE_* variables). */
export interface AlertSettings {
  bounceRate: MetricThresholds;
  errorRate: MetricThresholds;
  complaintRate: MetricThresholds;
  minSample: number;
  sustainSeconds: number;
  windowSeconds: number;
  autoPauseOnCritical: boolean;
}

/** One metric's rate, over the deployment's whole life and over the rolling window. */
export interface MetricStats {
  /** Affected messages (the numerator). */
  count: number;
  /** Messages the rate is taken over (the denominator). */
  sample: number;
  windowCount: number;
  windowSample: number;
}

export interface Observation {
  rate: number;
  sample: number;
  basis: 'window' | 'cumulative';
}

/** What the monitor remembers between evaluations for one (deployment, metric). */
export interface WatchState {
  level: Level;
  /** A level the rate points at but has not held for the sustain period yet. */
  candidate: Level | null;
  candidateSince: Date | null;
}

export const QUIET: WatchState = { level: 'ok', candidate: null, candidateSince: null };

export type Transition = 'opened' | 'escalated' | 'resolved';

export interface Evaluation {
  /** `insufficient`: below the minimum sample, no verdict either way. */
  verdict: 'insufficient' | 'ok' | 'warning' | 'critical' | 'resolved';
  observation: Observation | null;
  next: WatchState;
  transition: Transition | null;
}

const RANK: Record<Level, number> = { ok: 0, warning: 1, critical: 2 };

export const rateOf = (count: number, sample: number): number => (sample > 0 ? count / sample : 0);

/**
 * The recent window decides when it has enough messages (it is what can get worse or recover);
 * otherwise the whole life does (late provider feedback after a send has finished still counts).
 */
export function observe(stats: MetricStats, minSample: number): Observation | null {
  if (stats.windowSample >= minSample) return { rate: rateOf(stats.windowCount, stats.windowSample), sample: stats.windowSample, basis: 'window' };
  if (stats.sample >= minSample) return { rate: rateOf(stats.count, stats.sample), sample: stats.sample, basis: 'cumulative' };
  return null;
}

/** The level a rate points at, given where the alert stands now (hysteresis on the way down). */
export function targetLevel(rate: number, current: Level, thresholds: MetricThresholds, resolveRatio: number): Level {
  if (rate >= thresholds.critical) return 'critical';
  if (current === 'ok') return rate >= thresholds.warn ? 'warning' : 'ok';
  // An open alert keeps its severity (it does not flap between warning and critical) until the
  // rate is clearly back below the warning level.
  // (The tolerance keeps a rate exactly at the resolve level from resolving by floating-point noise.)
  return rate < thresholds.warn * resolveRatio - 1e-12 ? 'ok' : current;
}

export function evaluate(stats: MetricStats, thresholds: MetricThresholds, policy: Pick<Policy, 'minSample' | 'sustainSeconds' | 'resolveRatio'>, previous: WatchState, now: Date): Evaluation {
  const observation = observe(stats, policy.minSample);
  if (!observation) {
    // No verdict; a half-sustained change is forgotten rather than completed on thin evidence.
    return { verdict: 'insufficient', observation: null, next: { level: previous.level, candidate: null, candidateSince: null }, transition: null };
  }
  const target = targetLevel(observation.rate, previous.level, thresholds, policy.resolveRatio);
  if (target === previous.level) {
    return { verdict: previous.level, observation, next: { level: previous.level, candidate: null, candidateSince: null }, transition: null };
  }

  // Moving in the same direction as the pending candidate keeps its clock: a rate that climbs
  // from warning to critical has been over the warning level all along.
  const sameDirection =
    previous.candidate !== null &&
    previous.candidateSince !== null &&
    Math.sign(RANK[previous.candidate] - RANK[previous.level]) === Math.sign(RANK[target] - RANK[previous.level]);
  const since = sameDirection ? previous.candidateSince! : now;
  const held = (now.getTime() - since.getTime()) / 1000 >= policy.sustainSeconds;
  if (!held) {
    return { verdict: previous.level, observation, next: { level: previous.level, candidate: target, candidateSince: since }, transition: null };
  }
  const transition: Transition = target === 'ok' ? 'resolved' : previous.level === 'ok' ? 'opened' : 'escalated';
  return { verdict: target === 'ok' ? 'resolved' : target, observation, next: { level: target, candidate: null, candidateSince: null }, transition };
}

/** The counters a deployment keeps, reduced to the three rates' numerators and denominators. */
export interface FeedbackCounters {
  sent: number;
  bounced: number;
  failed: number;
  unknown: number;
  complaints: number;
}

export interface MetricTotals {
  bounce: { count: number; sample: number };
  error: { count: number; sample: number };
  complaint: { count: number; sample: number };
}

/**
 * Bounce and error rates are taken over every message that got an answer (or was lost on the
 * wire); the complaint rate over the messages that were accepted, as providers compute it.
 */
export function totals(c: FeedbackCounters): MetricTotals {
  const attempted = c.sent + c.bounced + c.failed + c.unknown;
  return {
    bounce: { count: c.bounced, sample: attempted },
    error: { count: c.failed + c.unknown, sample: attempted },
    complaint: { count: c.complaints, sample: c.sent },
  };
}

/** Whole-life totals and the window's (now minus the baseline a window ago) for one metric. */
export function metricStats(now: MetricTotals, baseline: MetricTotals | null, metric: Metric): MetricStats {
  const current = now[metric];
  const base = baseline?.[metric] ?? { count: 0, sample: 0 };
  // Counters can move down (a provider bounce turns a sent message into a bounced one), so a
  // window is never allowed below zero.
  return { count: current.count, sample: current.sample, windowCount: Math.max(0, current.count - base.count), windowSample: Math.max(0, current.sample - base.sample) };
}

export interface PolicyOverride {
  minSample?: number;
  sustainSeconds?: number;
  autoPauseOnCritical?: boolean;
  thresholds?: Partial<Record<Metric, Partial<MetricThresholds>>>;
}

/** A campaign's overrides on top of the configured defaults; a warn at or above critical is refused. */
export function applyOverride(defaults: Policy, override: PolicyOverride | null | undefined): { ok: true; policy: Policy } | { ok: false; reason: string } {
  if (!override) return { ok: true, policy: defaults };
  const thresholds = { ...defaults.thresholds };
  for (const metric of METRICS) {
    const o = override.thresholds?.[metric];
    if (!o) continue;
    const merged = { warn: o.warn ?? thresholds[metric].warn, critical: o.critical ?? thresholds[metric].critical };
    if (merged.warn >= merged.critical) return { ok: false, reason: `${metric}: warning (${merged.warn}) must be below critical (${merged.critical})` };
    thresholds[metric] = merged;
  }
  return {
    ok: true,
    policy: {
      ...defaults,
      thresholds,
      minSample: override.minSample ?? defaults.minSample,
      sustainSeconds: override.sustainSeconds ?? defaults.sustainSeconds,
      autoPauseOnCritical: override.autoPauseOnCritical ?? defaults.autoPauseOnCritical,
    },
  };
}
