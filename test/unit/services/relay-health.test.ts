import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRelayHealth, type RelayFaultReport } from '../../../src/services/sending/relay-health.js';

/**
 * The worker's circuit breaker on the relay: one probe at a time after a growing backoff, any
 * answer about a message closes it, and a fault lasting the configured time is persistent once,
 * on time, and again after the same time if it goes on.
 */
const login: RelayFaultReport = { cause: 'relay refused our login: 535 5.7.8 Authentication failed', code: 535 };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function healthWithLog(persistAfterMs = 30_000) {
  const persistent: { cause: string; at: number }[] = [];
  const health = createRelayHealth({ persistAfterMs, onPersistent: (report, at) => persistent.push({ cause: report.cause, at }), backoffMs: { first: 250, most: 4000 } });
  return { health, persistent };
}

describe('relay health', () => {
  it('lets every lane through while the relay answers', async () => {
    const { health } = healthWithLog();
    expect(await health.usable(() => false)).toBe(true);
    expect(await health.usable(() => false)).toBe(true);
    expect(health.current()).toBeUndefined();
  });

  it('after a fault, one lane probes after the backoff while the others wait; an answer opens it again', async () => {
    const { health } = healthWithLog();
    health.fault(login);
    const first = health.usable(() => false);
    const second = health.usable(() => false);
    let firstDone = false;
    let secondDone = false;
    void first.then(() => (firstDone = true));
    void second.then(() => (secondDone = true));
    await vi.advanceTimersByTimeAsync(100);
    expect([firstDone, secondDone]).toEqual([false, false]);
    await vi.advanceTimersByTimeAsync(300);
    expect([firstDone, secondDone].filter(Boolean)).toHaveLength(1);
    health.answered();
    await vi.advanceTimersByTimeAsync(300);
    expect([firstDone, secondDone]).toEqual([true, true]);
    expect(health.current()).toBeUndefined();
  });

  it('a waiting lane gives up when its job stops', async () => {
    const { health } = healthWithLog();
    health.fault(login);
    let stop = false;
    const waiting = health.usable(() => stop);
    stop = true;
    await vi.advanceTimersByTimeAsync(300);
    expect(await waiting).toBe(false);
  });

  it('is persistent once, on time, when faults go on for the configured time; again after the same time', async () => {
    const { health, persistent } = healthWithLog(30_000);
    const start = Date.now();
    // A failing probe every second.
    const faultsFor = async (ms: number) => {
      for (let waited = 0; waited < ms; waited += 1000) {
        health.fault(login);
        await vi.advanceTimersByTimeAsync(1000);
      }
    };
    await faultsFor(29_000);
    expect(persistent).toEqual([]);
    await faultsFor(2_000);
    expect(persistent).toEqual([{ cause: login.cause, at: start + 30_000 }]);
    await faultsFor(30_000);
    expect(persistent).toHaveLength(2);
  });

  it('an answer in between starts the clock again', async () => {
    const { health, persistent } = healthWithLog(30_000);
    health.fault(login);
    await vi.advanceTimersByTimeAsync(20_000);
    health.answered();
    health.fault(login);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(persistent).toEqual([]);
  });

  it('a fault nobody went on probing is not persistent (nothing is sending)', async () => {
    const { health, persistent } = healthWithLog(30_000);
    health.fault(login);
    await vi.advanceTimersByTimeAsync(31_000);
    expect(persistent).toEqual([]);
    expect(health.current()).toBeUndefined();
  });
});
