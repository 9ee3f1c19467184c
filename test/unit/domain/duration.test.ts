import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/domain/duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;

describe('parseDuration', () => {
  it.each([
    ['90s', 90 * S],
    ['1s', 1 * S],
    ['10m', 10 * M],
    ['2h', 2 * H],
    ['1h30m', H + 30 * M],
    ['1h30m15s', H + 30 * M + 15 * S],
    ['1h15s', H + 15 * S],
    ['5m30s', 5 * M + 30 * S],
    ['90m', 90 * M],
    ['0h10m', 10 * M],
    ['010m', 10 * M],
    [' 10m ', 10 * M],
    ['9999h', 9999 * H],
    ['999999s', 999_999 * S],
  ])('%j -> %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '',
    '   ',
    '0s',
    '0m',
    '0h0m0s',
    '10',
    '10 m',
    '1h 30m',
    '10M',
    '2H',
    '1.5h',
    '-5m',
    '+5m',
    '30m1h',
    '10s5m',
    '10m10m',
    '1d',
    '1w',
    'h',
    'm',
    '10min',
    '10 minutes',
    'PT10M',
    '10000h',
    '1000000s',
    '１０m',
    '10m\u0000',
    '${7*7}',
    '1e3s',
    'Infinitys',
    'NaNm',
  ])('%j is refused (undefined)', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [S, '1s'],
    [90 * S, '1m30s'],
    [10 * M, '10m'],
    [H, '1h'],
    [2 * H, '2h'],
    [H + 30 * M, '1h30m'],
    [H + 15 * S, '1h15s'],
    [H + 30 * M + 15 * S, '1h30m15s'],
    [25 * H, '25h'],
  ])('%i ms -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('rounds to whole seconds', () => {
    expect(formatDuration(499)).toBe('0s');
    expect(formatDuration(500)).toBe('1s');
    expect(formatDuration(59_600)).toBe('1m');
    expect(formatDuration(H - 400)).toBe('1h');
  });

  it('round-trips through parseDuration for whole seconds', () => {
    for (const ms of [S, 59 * S, M, 61 * S, 10 * M, 59 * M + 59 * S, H, H + S, 3 * H + 7 * M, 48 * H + 1 * S, 9999 * H]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });

  it('formats what parseDuration reads in canonical form', () => {
    expect(formatDuration(parseDuration('90m')!)).toBe('1h30m');
    expect(formatDuration(parseDuration('3600s')!)).toBe('1h');
  });
});
