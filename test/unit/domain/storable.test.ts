import { describe, expect, it } from 'vitest';
import { boundedJson, nestingWithin, storableText } from '../../../src/domain/storable.js';
import { canonicalJson } from '../../../src/http/webhooks/sendgrid.js';

/** What Postgres can hold: text without NUL or lone surrogates, cut by code points; JSON walked without recursion. */
describe('storable text', () => {
  it('W16: cuts by code points, never inside an emoji', () => {
    const straddling = `${'x'.repeat(499)}\u{1F4E8}tail`;
    expect(straddling.slice(0, 500)).toMatch(/\ud83d$/); // what cutting by UTF-16 units left
    expect(storableText(straddling, 500)).toBe(`${'x'.repeat(499)}\u{1F4E8}`);
    expect(storableText('ab\u{1F4E8}', 2)).toBe('ab');
  });

  it('W16: replaces NULs and lone surrogates, keeps pairs', () => {
    expect(storableText('a\u0000b')).toBe('a\ufffdb');
    expect(storableText('lone \ud83d high, lone \udce8 low, pair \u{1F4E8}')).toBe('lone \ufffd high, lone \ufffd low, pair \u{1F4E8}');
    expect(storableText('\udce8\ud83d')).toBe('\ufffd\ufffd');
  });
});

describe('bounded JSON', () => {
  const deep = (levels: number) => {
    let value: unknown = 1;
    for (let i = 0; i < levels; i++) value = { a: [value] };
    return value;
  };

  it('within its limits, writes canonical JSON: keys sorted, as JSON.stringify writes values', () => {
    const value = { b: [1, { d: 'x\u0000', c: null }], a: 'é', e: true };
    expect(boundedJson(value, { maxDepth: 10, maxChars: 1000, sortKeys: true })).toEqual({ text: '{"a":"é","b":[1,{"c":null,"d":"x\\u0000"}],"e":true}', complete: true });
    expect(canonicalJson(value)).toBe('{"a":"é","b":[1,{"c":null,"d":"x\\u0000"}],"e":true}');
    expect(boundedJson(value, { maxDepth: 10, maxChars: 1000, storable: true }).text).toBe('{"b":[1,{"d":"x\ufffd","c":null}],"a":"é","e":true}');
  });

  it('W18: 20,000 levels deep, writes a short preview without running out of stack', () => {
    const result = boundedJson(deep(20_000), { maxDepth: 32, maxChars: 64 * 1024 });
    expect(result.complete).toBe(false);
    expect(result.text.length).toBeLessThan(500);
    expect(result.text).toContain('"…"');
    expect(nestingWithin(deep(20_000), 32)).toBe(false);
    expect(nestingWithin(deep(15), 32)).toBe(true);
  });

  it('cuts a large value at the character limit', () => {
    const result = boundedJson(Array.from({ length: 10_000 }, (_, i) => `item ${i}`), { maxDepth: 32, maxChars: 1000 });
    expect(result).toMatchObject({ complete: false });
    expect(result.text.length).toBeLessThanOrEqual(1000);
  });
});
