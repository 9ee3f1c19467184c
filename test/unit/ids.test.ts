import { describe, expect, it } from 'vitest';
import { ID_PATTERN, ID_PREFIXES, idKind, newId, type IdKind } from '../../src/lib/ids.js';

const KINDS = Object.keys(ID_PREFIXES) as IdKind[];
const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

describe('newId', () => {
  it('covers the five kinds', () => {
    expect(ID_PREFIXES).toEqual({ campaign: 'cmp', deployment: 'dep', batch: 'bat', alert: 'alr', relayFault: 'rly' });
  });

  it.each(KINDS)('%s ids match ID_PATTERN and carry their prefix', (kind) => {
    for (let i = 0; i < 200; i++) {
      const id = newId(kind);
      expect(id).toMatch(ID_PATTERN);
      expect(id).toMatch(new RegExp(`^${ID_PREFIXES[kind]}_[${CROCKFORD}]{10}$`));
      expect(id).toHaveLength(14);
      expect(idKind(id)).toBe(kind);
    }
  });

  it('gives 10,000 distinct ids', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) ids.add(newId('deployment'));
    expect(ids.size).toBe(10_000);
  });

  it('uses the whole Crockford alphabet and nothing else (no i, l, o, u)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) for (const ch of newId('batch').slice(4)) seen.add(ch);
    expect([...seen].sort().join('')).toBe(CROCKFORD);
    for (const excluded of 'ilou') expect(seen.has(excluded)).toBe(false);
  });
});

describe('idKind', () => {
  it.each([
    ['cmp_0123456789', 'campaign'],
    ['dep_abcdefghjk', 'deployment'],
    ['bat_mnpqrstvwx', 'batch'],
    ['alr_yz01234567', 'alert'],
    ['rly_yz01234567', 'relayFault'],
  ] as const)('%s is a %s id', (id, kind) => {
    expect(idKind(id)).toBe(kind);
  });

  it('answers undefined for anything that is not an id', () => {
    for (const id of ['', 'dep', 'dep_', 'usr_0123456789', 'DEP_0123456789', 'dep_012345678i']) {
      expect(idKind(id)).toBeUndefined();
    }
  });
});

describe('ID_PATTERN: the bad-input catalogue', () => {
  it.each([
    ['SQL tautology', '1 OR 1=1'],
    ['SQL injection', "'; DROP TABLE deployments;--"],
    ['SQL injection after a valid id', "dep_0123456789'; DROP TABLE deployments;--"],
    ['path traversal', '../../etc'],
    ['path traversal after a prefix', 'dep_../../etc'],
    ['template injection', '${7*7}'],
    ['handlebars injection', '{{7*7}}'],
    ['percent-encoded NUL', '%00'],
    ['NUL after a short id', 'dep_123\u0000'],
    ['NUL after a valid id', 'dep_0123456789\u0000'],
    ['NUL inside', 'dep_01234\u000056789'],
    ['full-width digits', 'dep_\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19'],
    ['full-width digits (short)', '\uff11\uff12\uff13'],
    ['Arabic-Indic digits', 'dep_\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669'],
    ['Cyrillic а in the body', 'dep_\u0430bcdefghjk'],
    ['Cyrillic а in the prefix', 'c\u043cp_0123456789'],
    ['zero-width space at the end', 'dep_0123456789\u200b'],
    ['zero-width space inside', 'dep_01234\u200b56789'],
    ['zero-width space at the start', '\u200bdep_0123456789'],
    ['RTL override', 'dep_0123456789\u202e'],
    ['combining mark', 'dep_012345678a\u0301'],
    ['emoji', 'dep_012345678\u{1F600}'],
    ['lone surrogate', 'dep_012345678\ud800'],
    ['trailing newline', 'dep_0123456789\n'],
    ['leading space', ' dep_0123456789'],
    ['trailing space', 'dep_0123456789 '],
    ['upper case', 'DEP_0123456789'],
    ['upper-case body', 'dep_ABCDEFGHJK'],
    ['excluded letter i', 'dep_012345678i'],
    ['excluded letter l', 'dep_012345678l'],
    ['excluded letter o', 'dep_012345678o'],
    ['excluded letter u', 'dep_012345678u'],
    ['too short', 'dep_012345678'],
    ['too long', 'dep_0123456789a'],
    ['unknown prefix', 'usr_0123456789'],
    ['dash instead of underscore', 'dep-0123456789'],
    ['two ids', 'dep_0123456789,dep_abcdefghjk'],
    ['Slack user mention', '<@U123>'],
    ['Slack channel broadcast', '<!channel>'],
    ['empty', ''],
  ])('rejects %s: %j', (_label, id) => {
    expect(ID_PATTERN.test(id)).toBe(false);
    expect(idKind(id)).toBeUndefined();
  });

  it('is stateless across calls (no global flag)', () => {
    const id = newId('alert');
    expect(ID_PATTERN.test(id)).toBe(true);
    expect(ID_PATTERN.test(id)).toBe(true);
    expect(ID_PATTERN.flags).not.toContain('g');
    expect(ID_PATTERN.flags).not.toContain('y');
  });
});
