import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createSharedReplayGuard } from '../../../src/slack/replay-guard.js';

/** O3: the replay memory every web process shares, and what happens when it cannot answer. */
describe('O3: the shared replay memory', () => {
  it('O3: a key another process claimed is a replay here; one claimed nowhere is not', async () => {
    const held = new Set<string>();
    const claim = async (key: string) => !held.has(key) && Boolean(held.add(key));
    const processA = createSharedReplayGuard({ claim, logger: pino({ level: 'silent' }) });
    const processB = createSharedReplayGuard({ claim, logger: pino({ level: 'silent' }) });
    expect(await processA('sig:v0=1', Date.now() + 1000)).toBe(false);
    expect(await processB('sig:v0=1', Date.now() + 1000)).toBe(true);
    expect(await processB('sig:v0=2', Date.now() + 1000)).toBe(false);
  });

  it('a shared memory that fails or hangs (Redis down) leaves this process to decide alone, quickly, logging once per cause', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const failing = createSharedReplayGuard({ claim: () => Promise.reject(Object.assign(new Error('Stream isn\'t writeable'), { code: 'NR_CLOSED' })), logger });
    expect(await failing('sig:a', Date.now() + 1000)).toBe(false);
    expect(await failing('sig:a', Date.now() + 1000)).toBe(true); // this process still remembers it
    expect(await failing('sig:b', Date.now() + 1000)).toBe(false);
    expect(lines).toHaveLength(1);
    const hanging = createSharedReplayGuard({ claim: () => new Promise<boolean>(() => undefined), logger, timeoutMs: 50 });
    const started = Date.now();
    expect(await hanging('sig:c', Date.now() + 1000)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
