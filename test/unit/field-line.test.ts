import { describe, expect, it } from 'vitest';
import { encodeFieldLine, parseFieldLine, PLAIN_MARK } from '../../src/db/field-line.js';

describe('the stored merge-field line', () => {
  it.each([[[]], [['Ann', 'Oslo']], [['a, b', 'say "hi"', 'back\\slash', 'line\nbreak', '\u2028', '']]] as const)('reads back what it encodes: %j', (values) => {
    const line = encodeFieldLine([...values]);
    expect(JSON.parse(line)).toEqual(values);
    expect(parseFieldLine(line)).toEqual(values);
  });

  it('reads the plain form: the mark, then the values as they were in the file', () => {
    expect(parseFieldLine(`${PLAIN_MARK}Ann,,Oslo`)).toEqual(['Ann', '', 'Oslo']);
    expect(parseFieldLine(PLAIN_MARK)).toEqual(['']);
  });
});
