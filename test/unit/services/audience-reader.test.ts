import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readAudience, type RowProblem } from '../../../src/services/campaigns/audience-csv.js';
import { csvBlocks } from '../../../src/services/campaigns/csv-blocks.js';
import { KeySet } from '../../../src/services/campaigns/key-set.js';

/** Splits COPY text joined by the `\n` escape; `\\` is an escaped backslash, not a separator. */
function splitCopyText(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && text[i + 1] === 'n') {
      parts.push(current);
      current = '';
      i++;
    } else if (text[i] === '\\') {
      current += text.slice(i, i + 2);
      i++;
    } else {
      current += text[i];
    }
  }
  parts.push(current);
  return parts;
}

/** Reads a file the way the import does: rows of each deployment (in order) and problems. */
async function read(text: string, options: { deployments?: number; blockBytes?: number; chunkBytes?: number } = {}) {
  const deployments = options.deployments ?? 1;
  const rows: { email: string; fields: string }[][] = Array.from({ length: deployments }, () => []);
  const problems: RowProblem[] = [];
  const chunkBytes = options.chunkBytes ?? 7;
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkBytes) chunks.push(bytes.subarray(i, i + chunkBytes));
  await readAudience(Readable.from(chunks), {
    deploymentCount: deployments,
    blockBytes: options.blockBytes,
    onProblem: (p) => problems.push(p),
    onPiece(deployment, count, emails, fields) {
      const e = splitCopyText(emails);
      const f = splitCopyText(fields);
      expect([e.length, f.length]).toEqual([count, count]);
      for (let i = 0; i < count; i++) rows[deployment]!.push({ email: e[i]!, fields: f[i]! });
    },
  });
  return { rows, problems };
}

const TRICKY = [
  'Email,Note,City',
  'a@example.com,"multi\nline\nnote",Oslo',
  'b@example.com,"comma, inside",Rome',
  'B@example.com,dup of b? no: local part case differs,Paris',
  'b@example.com,real dup,Paris',
  'c@example.com,"quote "" inside",Lima',
  'not-an-email,x,y',
  '"d@example.com","all quoted","Kyiv"',
  'e@example.com,back\\slash,Tab\there',
  'f@example.com,"ends with quote""",Bern',
  '',
  'g@example.com,last,Baku',
].join('\r\n');

describe('audience reader', () => {
  it('gives the same rows and problems whatever the block and chunk sizes', async () => {
    const whole = await read(TRICKY, { blockBytes: 1 << 20, chunkBytes: 1 << 20 });
    expect(whole.rows[0]!.map((r) => r.email)).toEqual([
      'a@example.com',
      'b@example.com',
      'c@example.com',
      'd@example.com',
      'e@example.com',
      'f@example.com',
      'g@example.com',
    ]);
    expect(whole.rows[0]![0]!.fields).toBe('["multi\\\\nline\\\\nnote","Oslo"]');
    expect(whole.rows[0]![6]!.fields).toBe(',last,Baku');
    expect(whole.problems).toEqual([
      { lineNo: 6, kind: 'duplicate', detail: 'duplicate address B@example.com' },
      { lineNo: 7, kind: 'duplicate', detail: 'duplicate address b@example.com' },
      { lineNo: 9, kind: 'invalid', detail: 'email has no local part or no domain' },
    ]);
    for (const blockBytes of [1, 5, 16, 33, 64, 100]) {
      for (const chunkBytes of [1, 3, 7, 50]) {
        expect(await read(TRICKY, { blockBytes, chunkBytes }), `block ${blockBytes}, chunk ${chunkBytes}`).toEqual(whole);
      }
    }
  });

  it('spreads rows over deployments round-robin by line, whatever the block size', async () => {
    const file = ['email', ...Array.from({ length: 50 }, (_, i) => `r${i}@example.com`)].join('\n');
    const expected = await read(file, { deployments: 3, blockBytes: 1 << 20 });
    expect(expected.rows.map((r) => r.length)).toEqual([17, 17, 16]);
    expect(expected.rows[0]![1]!.email).toBe('r3@example.com');
    expect(expected.rows[1]![0]!.email).toBe('r1@example.com');
    for (const blockBytes of [10, 17, 64]) expect(await read(file, { deployments: 3, blockBytes })).toEqual(expected);
  });

  it('refuses an unclosed quote with its line, and a file that is only a header is fine', async () => {
    await expect(read('email,note\na@example.com,"open\nb@example.com,x\n', { blockBytes: 8 })).rejects.toThrow(/line 2: a quoted field is never closed/);
    expect(await read('email,note\n')).toEqual({ rows: [[]], problems: [] });
  });
});

describe('csv blocks', () => {
  it('cuts only at line breaks outside quotes and loses no byte', async () => {
    const text = 'h\n"a\nb",c\n"x""\ny"\nplain\n"\n"\n';
    for (const size of [1, 2, 4, 8, 64]) {
      const blocks: Buffer[] = [];
      for await (const block of csvBlocks(Readable.from([Buffer.from(text)]), size)) blocks.push(block);
      expect(Buffer.concat(blocks).toString()).toBe(text);
      for (const block of blocks) {
        const quotes = [...block.toString()].filter((c) => c === '"').length;
        expect(quotes % 2, `block ${JSON.stringify(block.toString())}`).toBe(0);
      }
    }
  });

  it('drops a UTF-8 byte order mark', async () => {
    const blocks: Buffer[] = [];
    for await (const block of csvBlocks(Readable.from([Buffer.from('\ufeffemail\n')]))) blocks.push(block);
    expect(Buffer.concat(blocks).toString()).toBe('email\n');
  });
});

describe('key set', () => {
  it('tells equal keys from different keys with the same hash', () => {
    const keys: string[] = [];
    const set = new KeySet((id) => keys[id]!, 4);
    const add = (key: string, hi: number, lo: number) => {
      keys.push(key);
      const added = set.add(hi, lo, keys.length - 1);
      if (!added) keys.pop();
      return added;
    };
    expect(add('a', 1, 1)).toBe(true);
    expect(add('b', 1, 1)).toBe(true); // a collision, not a duplicate
    expect(add('a', 1, 1)).toBe(false);
    expect(add('b', 1, 1)).toBe(false);
    let added = 0;
    for (let i = 0; i < 200_000; i++) if (add(`k${i}`, i * 2654435761, i)) added++;
    expect(added).toBe(200_000);
    expect(set.size).toBe(200_002);
    expect(add('k123', 123 * 2654435761, 123)).toBe(false);
  });
});

describe('stored field lines', () => {
  it('reads both forms back, keeping empty values', async () => {
    const { parseFieldLine } = await import('../../../src/db/field-line.js');
    expect(parseFieldLine(',Ann,,Oslo')).toEqual(['Ann', '', 'Oslo']);
    expect(parseFieldLine(',')).toEqual(['']);
    expect(parseFieldLine('["a, b","say \\"hi\\""]')).toEqual(['a, b', 'say "hi"']);
    expect(parseFieldLine('[]')).toEqual([]);
  });
});
