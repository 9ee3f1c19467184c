import { AudienceFileError } from './audience-rows.js';

/**
 * Cuts a CSV byte stream into blocks of whole records (~512 KB), so blocks can be validated
 * independently, even in parallel. A line break is a record boundary only outside quotes, i.e.
 * where the number of quote bytes before it is even. `"` and `\n` are single bytes in UTF-8 that
 * never occur inside a multi-byte character, so cutting on bytes is safe.
 */
const QUOTE = 0x22;
const NEWLINE = 0x0a;
export const BLOCK_BYTES = 512 * 1024;
const MAX_PENDING_BYTES = 16 * 1024 * 1024;

function quotesBefore(buf: Buffer, end: number): number {
  let count = 0;
  for (let i = buf.indexOf(QUOTE); i !== -1 && i < end; i = buf.indexOf(QUOTE, i + 1)) count++;
  return count;
}

/** Index just after the last record boundary in `buf`, or 0 when there is none. */
function lastBoundary(buf: Buffer): number {
  let candidate = buf.lastIndexOf(NEWLINE);
  if (candidate === -1) return 0;
  if (buf.indexOf(QUOTE) === -1) return candidate + 1;
  while (candidate !== -1) {
    if (quotesBefore(buf, candidate) % 2 === 0) return candidate + 1;
    // Inside a quoted field: the boundary, if any, is before the quote that opened it.
    const opening = buf.lastIndexOf(QUOTE, candidate);
    candidate = opening <= 0 ? -1 : buf.lastIndexOf(NEWLINE, opening - 1);
  }
  return 0;
}

/** Index just after the first record boundary, or the whole length when there is none. */
export function firstBoundary(buf: Buffer): number {
  let quotes = 0;
  let from = 0;
  for (let nl = buf.indexOf(NEWLINE); nl !== -1; nl = buf.indexOf(NEWLINE, nl + 1)) {
    for (let q = buf.indexOf(QUOTE, from); q !== -1 && q < nl; q = buf.indexOf(QUOTE, q + 1)) {
      quotes++;
      from = q + 1;
    }
    if (quotes % 2 === 0) return nl + 1;
  }
  return buf.length;
}

export async function* csvBlocks(source: AsyncIterable<Buffer | string>, blockBytes = BLOCK_BYTES): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let first = true;
  for await (const chunk of source) {
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (first && bytes.length > 0) {
      if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      first = false;
    }
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (pendingBytes < blockBytes) continue;
    const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    const cut = lastBoundary(buf);
    if (cut === 0) {
      if (pendingBytes > MAX_PENDING_BYTES) throw new AudienceFileError('the file is not valid CSV: a record is longer than 16 MB (unclosed quote?)');
      pending = [buf];
      continue;
    }
    yield buf.subarray(0, cut);
    pending = cut < buf.length ? [buf.subarray(cut)] : [];
    pendingBytes = buf.length - cut;
  }
  if (pendingBytes > 0) yield pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
}
