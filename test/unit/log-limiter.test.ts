import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { causeOf, createLogLimiter } from '../../src/lib/log-limiter.js';

/** One line per cause per interval, with a count of what was left out (issue 19, finding 7). */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('log limiter', () => {
  it('writes the first line of a cause, counts the repeats of an interval and writes them as one line', async () => {
    const { logger, lines } = capture();
    let clock = 0;
    const limiter = createLogLimiter(logger, 50, () => clock);
    for (let i = 0; i < 1000; i++) limiter.warn('MISCONF', { queue: 'send' }, 'worker error');
    limiter.warn('ECONNREFUSED', {}, 'worker error');
    expect(lines.map((l) => [l.cause, l.repeats])).toEqual([['MISCONF', undefined], ['ECONNREFUSED', undefined]]);
    clock = 60;
    await new Promise((r) => setTimeout(r, 80));
    expect(lines.map((l) => [l.cause, l.repeats])).toEqual([['MISCONF', undefined], ['ECONNREFUSED', undefined], ['MISCONF', 999]]);
    // A cause quiet for an interval starts again with one line.
    clock = 500;
    limiter.warn('MISCONF', {}, 'worker error');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatchObject({ cause: 'MISCONF', msg: 'worker error' });
    expect(lines[3]!.repeats).toBeUndefined();
  });

  it('names a cause by the error code, or the first line of the message', () => {
    expect(causeOf(Object.assign(new Error('x'), { code: '57P01' }))).toBe('57P01');
    expect(causeOf(new Error('MISCONF Redis is configured to save\nmore'))).toBe('MISCONF Redis is configured to save');
    // A full disk is named as such, wherever it was met (drizzle wraps a failed query's error).
    expect(causeOf(new Error('Failed query: insert into campaigns', { cause: Object.assign(new Error('could not extend file'), { code: '53100' }) }))).toBe('disk full');
    expect(causeOf(new Error('MISCONF Errors writing to the AOF file: No space left on device'))).toBe('disk full');
  });
});
