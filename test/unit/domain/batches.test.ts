import { describe, expect, it } from 'vitest';
import { planBatches, type BatchPlan } from '../../../src/domain/batches.js';

const T0 = new Date('2026-12-01T09:00:00.000Z');
const TEN_MINUTES = 10 * 60_000;

/** The invariants every plan must hold, whatever the inputs. */
function expectWellFormed(plans: BatchPlan[], total: number, count: number) {
  expect(plans).toHaveLength(count);
  expect(plans.map((p) => p.position)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  // Sizes: sum to the total, differ by at most one, earlier batches take the remainder.
  expect(plans.reduce((sum, p) => sum + p.total, 0)).toBe(total);
  const sizes = plans.map((p) => p.total);
  expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  for (let i = 1; i < sizes.length; i++) expect(sizes[i]!).toBeLessThanOrEqual(sizes[i - 1]!);
  // Ranges: contiguous, from 1, each exactly its total long (an empty batch has lastSeq = firstSeq - 1).
  let next = 1;
  for (const plan of plans) {
    expect(plan.total).toBeGreaterThanOrEqual(0);
    expect(plan.firstSeq).toBe(next);
    expect(plan.lastSeq - plan.firstSeq + 1).toBe(plan.total);
    next = plan.lastSeq + 1;
  }
  expect(next).toBe(total + 1);
  // Every seq 1..total in exactly one batch.
  const covered = plans.flatMap((p) => Array.from({ length: p.total }, (_, i) => p.firstSeq + i));
  expect(covered).toEqual(Array.from({ length: total }, (_, i) => i + 1));
}

describe('planBatches', () => {
  it('splits 10 into 4, 3, 3 with contiguous ranges', () => {
    const plans = planBatches(10, 3, T0, TEN_MINUTES);
    expect(plans.map(({ firstSeq, lastSeq, total }) => ({ firstSeq, lastSeq, total }))).toEqual([
      { firstSeq: 1, lastSeq: 4, total: 4 },
      { firstSeq: 5, lastSeq: 7, total: 3 },
      { firstSeq: 8, lastSeq: 10, total: 3 },
    ]);
  });

  it('one batch covers everything and sends at sendAt', () => {
    expect(planBatches(1000, 1, T0, TEN_MINUTES)).toEqual([
      { position: 1, firstSeq: 1, lastSeq: 1000, total: 1000, sendAt: T0 },
    ]);
  });

  it('even split gives equal sizes', () => {
    expect(planBatches(100, 4, T0, TEN_MINUTES).map((p) => p.total)).toEqual([25, 25, 25, 25]);
  });

  it('holds its invariants for every total 0..60 and count 1..13', () => {
    for (let total = 0; total <= 60; total++) {
      for (let count = 1; count <= 13; count++) {
        expectWellFormed(planBatches(total, count, T0, TEN_MINUTES), total, count);
      }
    }
  });

  it('holds its invariants for large audiences', () => {
    for (const [total, count] of [
      [1_000_000, 7],
      [999_999, 100],
      [12_345_678, 3],
    ] as const) {
      const plans = planBatches(total, count, T0, TEN_MINUTES);
      expect(plans.reduce((sum, p) => sum + p.total, 0)).toBe(total);
      expect(plans.at(-1)!.lastSeq).toBe(total);
      expect(plans[0]!.firstSeq).toBe(1);
    }
  });

  it('spaces send times by the interval, from sendAt', () => {
    const plans = planBatches(30, 4, T0, TEN_MINUTES);
    expect(plans.map((p) => p.sendAt?.toISOString())).toEqual([
      '2026-12-01T09:00:00.000Z',
      '2026-12-01T09:10:00.000Z',
      '2026-12-01T09:20:00.000Z',
      '2026-12-01T09:30:00.000Z',
    ]);
  });

  it('gives every batch its own Date and leaves sendAt untouched', () => {
    const sendAt = new Date(T0);
    const plans = planBatches(30, 3, sendAt, TEN_MINUTES);
    expect(sendAt.getTime()).toBe(T0.getTime());
    const dates = plans.map((p) => p.sendAt);
    expect(new Set(dates).size).toBe(3);
    for (const date of dates) expect(date).not.toBe(sendAt);
  });

  it('leaves every sendAt null for a draft', () => {
    const plans = planBatches(30, 3, null, TEN_MINUTES);
    expect(plans.map((p) => p.sendAt)).toEqual([null, null, null]);
    expectWellFormed(plans, 30, 3);
  });

  it('with fewer recipients than batches, gives the extra batches nothing (sum still equals total)', () => {
    const plans = planBatches(2, 5, T0, TEN_MINUTES);
    expectWellFormed(plans, 2, 5);
    expect(plans.map((p) => p.total)).toEqual([1, 1, 0, 0, 0]);
    for (const empty of plans.slice(2)) {
      expect(empty.lastSeq).toBeLessThan(empty.firstSeq);
      expect(empty.firstSeq).toBe(3);
    }
    // Still scheduled in order, so positions and times stay meaningful.
    expect(plans[4]!.sendAt!.getTime() - T0.getTime()).toBe(4 * TEN_MINUTES);
  });

  it('with an empty audience, gives empty batches', () => {
    const plans = planBatches(0, 3, T0, TEN_MINUTES);
    expectWellFormed(plans, 0, 3);
    expect(plans.every((p) => p.total === 0 && p.firstSeq === 1 && p.lastSeq === 0)).toBe(true);
  });
});
