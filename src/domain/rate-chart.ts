/**
 * How a rate got where it is: the monitor's per-second snapshots of a deployment's counters
 * (cumulative numerator and denominator of one metric) turned into the rate within each of a
 * few equal time buckets over the alert window. Pure; the alert message draws it.
 */
export interface CounterSnapshot {
  at: Date;
  /** The metric's numerator (bounces, errors, complaints) so far. */
  count: number;
  /** Its denominator (answered messages, or accepted ones for complaints) so far. */
  sample: number;
}

export const CHART_BUCKETS = 24;

/**
 * The rate within each bucket of `windowSeconds` ending at `end` (oldest first): the counters'
 * growth from the last snapshot at or before the bucket's start to the last one at or before its
 * end. null where nothing was answered in the bucket (or no snapshot covers it).
 */
export function bucketRates(snapshots: readonly CounterSnapshot[], windowSeconds: number, end: Date, buckets = CHART_BUCKETS): (number | null)[] {
  const sorted = [...snapshots].sort((a, b) => a.at.getTime() - b.at.getTime());
  const width = (windowSeconds * 1000) / buckets;
  const start = end.getTime() - windowSeconds * 1000;
  const lastAtOrBefore = (t: number): CounterSnapshot | undefined => {
    let found: CounterSnapshot | undefined;
    for (const s of sorted) {
      if (s.at.getTime() > t) break;
      found = s;
    }
    return found;
  };
  const rates: (number | null)[] = [];
  for (let i = 0; i < buckets; i++) {
    const from = lastAtOrBefore(start + i * width) ?? sorted.find((s) => s.at.getTime() <= start + (i + 1) * width);
    const to = lastAtOrBefore(start + (i + 1) * width);
    const sample = from && to ? to.sample - from.sample : 0;
    // Counters can move down (a provider bounce turns a sent message into a bounced one): never below zero.
    rates.push(from && to && sample > 0 ? Math.min(1, Math.max(0, to.count - from.count) / sample) : null);
  }
  return rates;
}

export interface ChartScale {
  /** The rate the top of the chart stands for: a little above the critical line, or the highest bucket. */
  top: number;
}

export function chartScale(rates: readonly (number | null)[], critical: number): ChartScale {
  const highest = Math.max(0, ...rates.filter((r): r is number => r !== null));
  return { top: Math.max(critical * 1.25, highest, 1e-9) };
}

/** A bucket's rate as a level 0–7 of the chart (0 the lowest bar), or null for no data. */
export function chartLevel(rate: number | null, scale: ChartScale, levels = 8): number | null {
  if (rate === null) return null;
  return Math.min(levels - 1, Math.max(0, Math.ceil((rate / scale.top) * levels) - 1));
}
