import { describe, expect, it } from 'vitest';
import { acknowledgesAlerts, canAcknowledge, canSnooze, mentions, reannounceDueAt, snoozeUntil, SYSTEM_ACTOR, waitedFor, type OnCallState } from '../../../src/domain/on-call.js';
import { bucketRates, chartLevel, chartScale } from '../../../src/domain/rate-chart.js';

const open: OnCallState = { state: 'open', severity: 'warning', acknowledgedBy: null, acknowledgedAt: null, snoozedUntil: null };
const at = (iso: string) => new Date(iso);

describe('on-call rules', () => {
  it('acknowledges an open alert once; a second is told who was first; a resolved one has nothing to acknowledge', () => {
    expect(canAcknowledge(open).ok).toBe(true);
    const again = canAcknowledge({ ...open, acknowledgedBy: 'U0ALICE001', acknowledgedAt: at('2026-01-01T00:00:00Z') });
    expect(again).toMatchObject({ ok: false, code: 'already_acknowledged', by: 'U0ALICE001' });
    expect(canAcknowledge({ ...open, state: 'resolved' })).toMatchObject({ ok: false, code: 'not_open' });
  });

  it('snoozes only an open warning', () => {
    expect(canSnooze(open).ok).toBe(true);
    expect(canSnooze({ ...open, severity: 'critical' })).toMatchObject({ ok: false, code: 'critical' });
    expect(canSnooze({ ...open, state: 'resolved' })).toMatchObject({ ok: false, code: 'not_open' });
  });

  it('snoozes for 30 min, 2 h, or until the next 09:00 UTC', () => {
    const now = at('2026-03-10T14:20:00Z');
    expect(snoozeUntil('30m', now)).toEqual(at('2026-03-10T14:50:00Z'));
    expect(snoozeUntil('2h', now)).toEqual(at('2026-03-10T16:20:00Z'));
    expect(snoozeUntil('tomorrow', now)).toEqual(at('2026-03-11T09:00:00Z'));
    // At 3 a.m. "tomorrow" is this morning's 09:00; at 09:00 sharp, the next day's.
    expect(snoozeUntil('tomorrow', at('2026-03-10T03:00:00Z'))).toEqual(at('2026-03-10T09:00:00Z'));
    expect(snoozeUntil('tomorrow', at('2026-03-10T09:00:00Z'))).toEqual(at('2026-03-11T09:00:00Z'));
    expect(snoozeUntil('tomorrow', at('2026-12-31T23:00:00Z'))).toEqual(at('2027-01-01T09:00:00Z'));
  });

  it('mentions by severity, never while snoozed', () => {
    const now = at('2026-01-01T00:00:00Z');
    expect(mentions('warning', 'warning', null, now)).toBe(true);
    expect(mentions('warning', 'critical', null, now)).toBe(false);
    expect(mentions('critical', 'critical', null, now)).toBe(true);
    expect(mentions('warning', 'warning', at('2026-01-01T00:30:00Z'), now)).toBe(false);
    expect(mentions('warning', 'warning', at('2025-12-31T23:59:00Z'), now)).toBe(true);
  });

  it('re-announces after the set time from the latest of opening, escalation and the snooze end; 0 never', () => {
    const openedAt = at('2026-01-01T00:00:00Z');
    expect(reannounceDueAt({ openedAt, escalatedAt: null, snoozedUntil: null }, 900)).toEqual(at('2026-01-01T00:15:00Z'));
    expect(reannounceDueAt({ openedAt, escalatedAt: at('2026-01-01T00:10:00Z'), snoozedUntil: null }, 900)).toEqual(at('2026-01-01T00:25:00Z'));
    expect(reannounceDueAt({ openedAt, escalatedAt: null, snoozedUntil: at('2026-01-01T02:00:00Z') }, 900)).toEqual(at('2026-01-01T02:15:00Z'));
    expect(reannounceDueAt({ openedAt, escalatedAt: null, snoozedUntil: null }, 0)).toBeUndefined();
    expect(waitedFor(900)).toBe('15 min');
    expect(waitedFor(7200)).toBe('2 h');
    expect(waitedFor(2)).toBe('2 s');
  });

  it("Campaign Guard's own pauses acknowledge nothing; anyone else's do", () => {
    expect(acknowledgesAlerts(SYSTEM_ACTOR)).toBe(false);
    expect(acknowledgesAlerts('U0ALICE001')).toBe(true);
    expect(acknowledgesAlerts('ops-script')).toBe(true);
  });
});

describe('rate chart buckets', () => {
  const end = at('2026-01-01T00:05:00Z');
  const snap = (second: number, count: number, sample: number) => ({ at: new Date(end.getTime() - 300_000 + second * 1000), count, sample });

  it('takes the rate within each bucket from the counters growth, null where nothing was answered', () => {
    // 0–150 s: 100 answers, 1 bounce a bucket-width; 150–300 s: 10 of 100 bounce.
    const snapshots = [snap(0, 0, 0), snap(150, 1, 100), snap(300, 11, 200)];
    const rates = bucketRates(snapshots, 300, end, 2);
    expect(rates).toEqual([0.01, 0.1]);
    expect(bucketRates([snap(0, 0, 0), snap(100, 5, 50)], 300, end, 3)).toEqual([0.1, null, null]);
    expect(bucketRates([], 300, end, 4)).toEqual([null, null, null, null]);
  });

  it('never goes below zero when a counter moves down, nor above one', () => {
    expect(bucketRates([snap(0, 5, 10), snap(300, 3, 20)], 300, end, 1)).toEqual([0]);
  });

  it('scales to a little above critical, or the highest bucket', () => {
    expect(chartScale([0.01, 0.02], 0.1).top).toBeCloseTo(0.125);
    expect(chartScale([0.5, null], 0.1).top).toBe(0.5);
    const scale = chartScale([0, 0.125], 0.1);
    expect(chartLevel(0, scale)).toBe(0);
    expect(chartLevel(0.125, scale)).toBe(7);
    expect(chartLevel(null, scale)).toBeNull();
  });
});
