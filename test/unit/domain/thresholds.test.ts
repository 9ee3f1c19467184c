import { describe, expect, it } from 'vitest';
import {
  applyOverride,
  evaluate,
  metricStats,
  observe,
  QUIET,
  targetLevel,
  totals,
  type Level,
  type MetricStats,
  type Policy,
  type WatchState,
} from '../../../src/domain/thresholds.js';

const thresholds = { warn: 0.05, critical: 0.1 };
const policy = { minSample: 100, sustainSeconds: 10, resolveRatio: 0.8 };
const t0 = new Date('2026-11-22T10:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

/** A window with `rate` over `sample` messages (the whole life equal to the window). */
const stats = (rate: number, sample = 1000): MetricStats => ({ count: Math.round(rate * sample), sample, windowCount: Math.round(rate * sample), windowSample: sample });

/** Runs a sequence of (second, rate[, sample]) observations; returns each step's verdict and transition. */
function run(steps: [number, number, number?][], options: Partial<typeof policy> = {}, start: WatchState = QUIET) {
  let state = start;
  return steps.map(([second, rate, sample]) => {
    const result = evaluate(stats(rate, sample), thresholds, { ...policy, ...options }, state, at(second));
    state = result.next;
    return `${result.verdict}${result.transition ? `/${result.transition}` : ''}`;
  });
}

describe('evaluate: minimum sample', () => {
  it.each([
    ['50 of 99 bounced', 0.5, 99],
    ['every one of 10 bounced', 1, 10],
    ['nothing sent yet', 0, 0],
  ])('gives no verdict below the minimum sample: %s', (_label, rate, sample) => {
    expect(run([[0, rate, sample], [60, rate, sample]])).toEqual(['insufficient', 'insufficient']);
  });

  it('gives a verdict at exactly the minimum sample', () => {
    expect(run([[0, 0.2, 100], [10, 0.2, 100]])).toEqual(['ok', 'critical/opened']);
  });

  it('forgets a half-sustained breach when the sample falls below the minimum', () => {
    const first = evaluate(stats(0.2), thresholds, policy, QUIET, at(0));
    expect(first.next.candidate).toBe('critical');
    const thin = evaluate({ count: 0, sample: 50, windowCount: 0, windowSample: 50 }, thresholds, policy, first.next, at(5));
    expect(thin).toMatchObject({ verdict: 'insufficient', next: { level: 'ok', candidate: null } });
  });

  it('keeps an open alert open (no resolution) on thin evidence', () => {
    const open: WatchState = { level: 'critical', candidate: null, candidateSince: null };
    const result = evaluate({ count: 0, sample: 10, windowCount: 0, windowSample: 10 }, thresholds, policy, open, at(0));
    expect(result.verdict).toBe('insufficient');
    expect(result.next.level).toBe('critical');
    expect(result.transition).toBeNull();
  });
});

describe('evaluate: sustain', () => {
  const cases: [string, [number, number][], string[], number?][] = [
    ['opens only after the rate held for the sustain period', [[0, 0.07], [5, 0.07], [9.9, 0.07], [10, 0.07]], ['ok', 'ok', 'ok', 'warning/opened']],
    ['a blip shorter than the sustain period opens nothing', [[0, 0.07], [5, 0.01], [10, 0.07], [15, 0.01]], ['ok', 'ok', 'ok', 'ok']],
    ['a dip restarts the clock', [[0, 0.07], [5, 0.01], [6, 0.07], [15, 0.07], [16, 0.07]], ['ok', 'ok', 'ok', 'ok', 'warning/opened']],
    ['sustain 0 opens at once', [[0, 0.07]], ['warning/opened'], 0],
    ['sustain 0 goes straight to critical', [[0, 0.5]], ['critical/opened'], 0],
    ['a rate that climbs from warning to critical keeps its clock', [[0, 0.06], [6, 0.15], [10, 0.15]], ['ok', 'ok', 'critical/opened']],
  ];
  it.each(cases)('%s', (_label, steps, expected, sustainSeconds) => {
    expect(run(steps, sustainSeconds === undefined ? {} : { sustainSeconds })).toEqual(expected);
  });
});

describe('evaluate: escalation', () => {
  it('escalates an open warning to critical once the critical rate has held', () => {
    expect(run([[0, 0.06], [10, 0.06], [20, 0.12], [25, 0.12], [30, 0.12]])).toEqual(['ok', 'warning/opened', 'warning', 'warning', 'critical/escalated']);
  });

  it('does not escalate twice, nor fall back to warning while the rate stays high', () => {
    expect(run([[0, 0.2], [10, 0.2], [20, 0.3], [40, 0.07], [60, 0.2]])).toEqual(['ok', 'critical/opened', 'critical', 'critical', 'critical']);
  });
});

describe('evaluate: hysteresis and resolution', () => {
  const open = (level: Level): WatchState => ({ level, candidate: null, candidateSince: null });

  it.each([
    // warn 5%, resolve below 4% (0.8 × warn)
    ['just under the warning level is not enough', 'warning', 0.045, 'warning'],
    ['exactly at the resolve level is not enough', 'warning', 0.04, 'warning'],
    ['below the resolve level resolves', 'warning', 0.039, 'ok'],
    ['a critical alert below warning but above the resolve level stays critical', 'critical', 0.045, 'critical'],
    ['a critical alert resolves below the resolve level', 'critical', 0.01, 'ok'],
    ['an ok rate between resolve and warn stays ok', 'ok', 0.045, 'ok'],
  ] as const)('%s', (_label, level, rate, expected) => {
    expect(targetLevel(rate, level, thresholds, 0.8)).toBe(expected);
  });

  it('resolves only after the rate stayed below the resolve level for the sustain period', () => {
    expect(run([[0, 0.01], [5, 0.01], [10, 0.01]], {}, open('critical'))).toEqual(['critical', 'critical', 'resolved/resolved']);
  });

  it('a recovery interrupted by a new spike does not resolve', () => {
    expect(run([[0, 0.01], [5, 0.2], [10, 0.01], [15, 0.01]], {}, open('warning'))).toEqual(['warning', 'warning', 'warning', 'warning']);
  });

  it('a rate hovering around the threshold opens once and does not flap', () => {
    const hovering: [number, number][] = [];
    for (let s = 0; s <= 120; s += 2) hovering.push([s, s % 4 === 0 ? 0.052 : 0.048]);
    const verdicts = run(hovering, { sustainSeconds: 0 });
    expect(verdicts.filter((v) => v.includes('/'))).toEqual(['warning/opened']);
  });

  it('after resolution a new spike opens a new alert', () => {
    expect(run([[0, 0.2], [0, 0.01], [1, 0.2]], { sustainSeconds: 0 })).toEqual(['critical/opened', 'resolved/resolved', 'critical/opened']);
  });
});

describe('observe: window first, whole life when the window is thin', () => {
  it('uses the window when it has the minimum sample', () => {
    expect(observe({ count: 10, sample: 1000, windowCount: 30, windowSample: 200 }, 100)).toEqual({ rate: 0.15, sample: 200, basis: 'window' });
  });

  it('uses the whole life when the window is thin (late feedback after the send ended)', () => {
    expect(observe({ count: 30, sample: 1000, windowCount: 3, windowSample: 3 }, 100)).toEqual({ rate: 0.03, sample: 1000, basis: 'cumulative' });
  });
});

describe('totals and metricStats', () => {
  it('takes bounce and error rates over every answered message, complaints over accepted ones', () => {
    expect(totals({ sent: 880, bounced: 100, failed: 15, unknown: 5, complaints: 2 })).toEqual({
      bounce: { count: 100, sample: 1000 },
      error: { count: 20, sample: 1000 },
      complaint: { count: 2, sample: 880 },
    });
  });

  it('a window is now minus the baseline, never negative', () => {
    const now = totals({ sent: 900, bounced: 100, failed: 0, unknown: 0, complaints: 0 });
    const base = totals({ sent: 500, bounced: 20, failed: 0, unknown: 0, complaints: 1 });
    expect(metricStats(now, base, 'bounce')).toEqual({ count: 100, sample: 1000, windowCount: 80, windowSample: 480 });
    expect(metricStats(now, base, 'complaint')).toEqual({ count: 0, sample: 900, windowCount: 0, windowSample: 400 });
    expect(metricStats(now, null, 'bounce')).toEqual({ count: 100, sample: 1000, windowCount: 100, windowSample: 1000 });
  });
});

describe('applyOverride: per-campaign policy', () => {
  const defaults: Policy = {
    thresholds: { bounce: { warn: 0.02, critical: 0.05 }, error: { warn: 0.05, critical: 0.1 }, complaint: { warn: 0.0005, critical: 0.001 } },
    minSample: 100,
    sustainSeconds: 15,
    resolveRatio: 0.8,
    autoPauseOnCritical: false,
  };

  it('keeps the defaults without an override', () => {
    expect(applyOverride(defaults, null)).toEqual({ ok: true, policy: defaults });
  });

  it('overrides only what it names', () => {
    const result = applyOverride(defaults, { minSample: 500, thresholds: { bounce: { critical: 0.08 } }, autoPauseOnCritical: true });
    expect(result).toEqual({
      ok: true,
      policy: { ...defaults, minSample: 500, autoPauseOnCritical: true, thresholds: { ...defaults.thresholds, bounce: { warn: 0.02, critical: 0.08 } } },
    });
  });

  it('refuses a warning level at or above the critical one', () => {
    const result = applyOverride(defaults, { thresholds: { bounce: { warn: 0.06 } } });
    expect(result).toEqual({ ok: false, reason: 'bounce: warning (0.06) must be below critical (0.05)' });
  });
});
