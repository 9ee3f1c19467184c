import { describe, expect, it } from 'vitest';
import { countsFrom, sumCounts, type DeliveryCounts, type StoredCounters } from '../../../src/domain/counts.js';

const ZERO: DeliveryCounts = { total: 0, pending: 0, inFlight: 0, sent: 0, bounced: 0, failed: 0, unknown: 0, cancelled: 0 };

const stored = (over: Partial<StoredCounters> = {}): StoredCounters => ({
  totalCount: 0,
  inFlightCount: 0,
  sentCount: 0,
  bouncedCount: 0,
  failedCount: 0,
  unknownCount: 0,
  cancelledCount: 0,
  ...over,
});

const settledSum = (c: DeliveryCounts) => c.pending + c.inFlight + c.sent + c.bounced + c.failed + c.unknown + c.cancelled;

describe('countsFrom', () => {
  it('maps every stored counter and derives pending', () => {
    expect(
      countsFrom(
        stored({
          totalCount: 100,
          inFlightCount: 3,
          sentCount: 50,
          bouncedCount: 4,
          failedCount: 2,
          unknownCount: 1,
          cancelledCount: 10,
        }),
      ),
    ).toEqual({ total: 100, pending: 30, inFlight: 3, sent: 50, bounced: 4, failed: 2, unknown: 1, cancelled: 10 });
  });

  it('gives all zeros for an empty deployment', () => {
    expect(countsFrom(stored())).toEqual(ZERO);
  });

  it('reports everything pending before any send', () => {
    expect(countsFrom(stored({ totalCount: 42 }))).toEqual({ ...ZERO, total: 42, pending: 42 });
  });

  it('reports nothing pending when everything is settled', () => {
    const c = countsFrom(stored({ totalCount: 10, sentCount: 7, bouncedCount: 1, cancelledCount: 2 }));
    expect(c.pending).toBe(0);
    expect(settledSum(c)).toBe(c.total);
  });

  it('never reports negative pending, even when counters overshoot the total', () => {
    const c = countsFrom(stored({ totalCount: 5, sentCount: 6, inFlightCount: 1 }));
    expect(c.pending).toBe(0);
    expect(c.sent).toBe(6);
  });

  it('keeps pending + every outcome equal to the total whenever the counters are consistent', () => {
    for (let total = 0; total <= 12; total++) {
      for (let sent = 0; sent <= total; sent++) {
        for (let cancelled = 0; sent + cancelled <= total; cancelled++) {
          const inFlight = Math.min(2, total - sent - cancelled);
          const c = countsFrom(stored({ totalCount: total, sentCount: sent, cancelledCount: cancelled, inFlightCount: inFlight }));
          expect(c.pending).toBe(total - sent - cancelled - inFlight);
          expect(settledSum(c)).toBe(total);
        }
      }
    }
  });
});

describe('sumCounts', () => {
  it('sums nothing to zero', () => {
    expect(sumCounts([])).toEqual(ZERO);
  });

  it('returns a copy of a single entry', () => {
    const one: DeliveryCounts = { total: 9, pending: 1, inFlight: 1, sent: 2, bounced: 1, failed: 1, unknown: 1, cancelled: 2 };
    const sum = sumCounts([one]);
    expect(sum).toEqual(one);
    expect(sum).not.toBe(one);
  });

  it('adds every field', () => {
    const a: DeliveryCounts = { total: 10, pending: 1, inFlight: 2, sent: 3, bounced: 1, failed: 1, unknown: 1, cancelled: 1 };
    const b: DeliveryCounts = { total: 20, pending: 10, inFlight: 0, sent: 5, bounced: 2, failed: 0, unknown: 0, cancelled: 3 };
    const c: DeliveryCounts = { total: 5, pending: 0, inFlight: 0, sent: 0, bounced: 0, failed: 0, unknown: 0, cancelled: 5 };
    expect(sumCounts([a, b, c])).toEqual({ total: 35, pending: 11, inFlight: 2, sent: 8, bounced: 3, failed: 1, unknown: 1, cancelled: 9 });
  });

  it('does not modify its inputs and is order-independent', () => {
    const a = countsFrom(stored({ totalCount: 10, sentCount: 4 }));
    const b = countsFrom(stored({ totalCount: 7, cancelledCount: 7 }));
    const before = [structuredClone(a), structuredClone(b)];
    expect(sumCounts([a, b])).toEqual(sumCounts([b, a]));
    expect([a, b]).toEqual(before);
  });

  it('keeps the total consistent when summing consistent counts', () => {
    const parts = [
      countsFrom(stored({ totalCount: 10, sentCount: 4, inFlightCount: 2 })),
      countsFrom(stored({ totalCount: 7, cancelledCount: 7 })),
      countsFrom(stored({ totalCount: 3, bouncedCount: 1, failedCount: 1, unknownCount: 1 })),
    ];
    const sum = sumCounts(parts);
    expect(sum.total).toBe(20);
    expect(settledSum(sum)).toBe(sum.total);
  });
});
