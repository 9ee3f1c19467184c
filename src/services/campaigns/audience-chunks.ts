import { once } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * Builds COPY text lines for `audience_chunks`: per deployment, runs of CHUNK_SIZE consecutive
 * recipients as one row, addresses and merge-field JSON each joined by newlines (written as the
 * COPY escape `\n`). Sized so a chunk stays inline in one heap tuple.
 */
export const CHUNK_SIZE = 100;

// eslint-disable-next-line no-control-regex
export const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/;

/** A JSON array of strings, without JSON.stringify's per-call cost in the common case. */
export function jsonStrings(values: string[]): string {
  let json = '[';
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    json += (i ? ',' : '') + (NEEDS_JSON_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`);
  }
  return `${json}]`;
}

/** COPY text format: JSON has no raw tabs or newlines, so only backslashes need doubling. */
function copyText(value: string): string {
  return value.indexOf('\\') === -1 ? value : value.replace(/\\/g, '\\\\');
}

interface OpenChunk {
  chunkNo: number;
  firstSeq: number;
  count: number;
  emails: string;
  fields: string;
}

export function createChunkWriter(copy: Writable, deploymentIds: string[]) {
  const open: (OpenChunk | undefined)[] = deploymentIds.map(() => undefined);
  const nextChunk = deploymentIds.map(() => 0);
  const seqs = deploymentIds.map(() => 0);
  let pending = '';

  const line = (index: number, c: OpenChunk) =>
    `${deploymentIds[index]}\t${c.chunkNo}\t${c.firstSeq}\t${c.count}\t${c.emails}\t${c.fields}\n`;

  const flush = async (force: boolean) => {
    if (pending.length >= 256 * 1024 || (force && pending)) {
      const text = pending;
      pending = '';
      if (!copy.write(text)) await once(copy, 'drain');
    }
  };

  return {
    /** Adds a recipient (address and merge-field JSON array) and returns its seq (1-based). */
    add(index: number, email: string, valuesJson: string): number {
      const chunk = open[index];
      if (!chunk) {
        open[index] = { chunkNo: nextChunk[index]!++, firstSeq: seqs[index]! + 1, count: 1, emails: email, fields: copyText(valuesJson) };
      } else {
        chunk.emails += `\\n${email}`;
        chunk.fields += `\\n${copyText(valuesJson)}`;
        if (++chunk.count === CHUNK_SIZE) {
          pending += line(index, chunk);
          open[index] = undefined;
        }
      }
      return ++seqs[index]!;
    },
    /** Lets COPY catch up when enough text is buffered; call between input chunks. */
    drain: () => flush(false),
    async finish() {
      open.forEach((chunk, index) => {
        if (chunk) pending += line(index, chunk);
      });
      await flush(true);
    },
    totals: () => [...seqs],
  };
}
