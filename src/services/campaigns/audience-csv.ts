import type { Readable } from 'node:stream';
import { COPY_LINE_SEPARATOR as SEPARATOR } from '../../db/field-line.js';
import { AudienceFileError, dedupeKey, layoutOf, type HeaderLayout, type ValidatedBlock } from './audience-rows.js';
import { validateInline, type BlockValidator } from './audience-workers.js';
import { csvBlocks, firstBoundary } from './csv-blocks.js';
import { CsvSyntaxError, parseCsvText } from './csv-records.js';
import { KeySet } from './key-set.js';

export { AudienceFileError, type RowProblem } from './audience-rows.js';
import type { RowProblem } from './audience-rows.js';

/**
 * Reads a recipients CSV: the header must name an `email` column; other columns become merge
 * fields; an optional `deployment` column (1..K) pins a row to one deployment of a multi
 * campaign. Bad rows are reported with their line number and skipped. Blocks of records are
 * validated independently (in worker threads when a validator is given); this reader then
 * decides duplicates in file order and hands rows over in file order. Memory is bounded by the
 * keys seen (needed to report duplicates), a few blocks in flight, and a capped problem list.
 */
export const MAX_LISTED_PROBLEMS = 1000;
const BLOCKS_IN_FLIGHT = 4;

export interface ReadAudienceOptions {
  deploymentCount: number;
  onHeader?(fieldNames: string[]): void;
  onProblem(problem: RowProblem): void;
  /**
   * Valid, first-seen recipients of one deployment (0-based), in file order: `count` addresses
   * and their merge-field JSON arrays (COPY-escaped), each joined by the COPY escape `\n`.
   */
  onPiece(deployment: number, count: number, emails: string, fields: string): void;
  /** A guess of the number of rows (e.g. file size / 40), to size the duplicate table. */
  expectedRows?: number;
  /** Awaited after each block, for backpressure towards the database. */
  afterBlock?(): Promise<void>;
  validate?: BlockValidator;
  /** Block size in bytes; small values exercise block boundaries in tests. */
  blockBytes?: number;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

function readHeader(bytes: Buffer): { layout: HeaderLayout; rest: Buffer; lines: number } {
  const end = firstBoundary(bytes);
  let header: string[] | undefined;
  const lines = parseCsvText(decoder.decode(bytes.subarray(0, end)), 1, {
    line: (text, start, stop) => void (header ??= text.slice(start, stop).split(',')),
    record: (fields) => void (header ??= fields),
  });
  if (!header) throw new AudienceFileError('the file is empty: it needs a header line with an "email" column');
  return { layout: layoutOf(header), rest: bytes.subarray(end), lines: Math.max(lines, 1) };
}

export async function readAudience(source: Readable, options: ReadAudienceOptions): Promise<void> {
  const validate = options.validate ?? validateInline;
  const inFlight: Promise<ValidatedBlock>[] = [];
  const deployments = options.deploymentCount;
  let layout: HeaderLayout | undefined;
  let nextLine = 1;

  // Every accepted address stays readable by id (piece text + offset) so the key set can confirm
  // a hash match by comparing keys.
  const retained: string[] = [];
  let refPiece = new Int32Array(1 << 16);
  let refOffset = new Int32Array(1 << 16);
  let refLength = new Int32Array(1 << 16);
  let accepted = 0;
  const addressOf = (id: number) => retained[refPiece[id]!]!.slice(refOffset[id]!, refOffset[id]! + refLength[id]!);
  const seen = new KeySet((id) => dedupeKey(addressOf(id)), options.expectedRows);
  const remember = (piece: number, offset: number, length: number) => {
    if (accepted === refPiece.length) {
      const grow = (from: Int32Array) => {
        const to = new Int32Array(from.length * 2);
        to.set(from);
        return to;
      };
      refPiece = grow(refPiece);
      refOffset = grow(refOffset);
      refLength = grow(refLength);
    }
    refPiece[accepted] = piece;
    refOffset[accepted] = offset;
    refLength[accepted] = length;
    return accepted++;
  };

  /** Decides duplicates in file order, then hands the pieces over in order, without the duplicates. */
  const consume = (block: ValidatedBlock) => {
    const base = nextLine;
    const pieceOf = new Int32Array(block.rows);
    const emailStart = new Int32Array(block.rows);
    const fieldStart = new Int32Array(block.rows);
    let row = 0;
    block.pieces.forEach((piece, index) => {
      let emailAt = 0;
      let fieldAt = 0;
      for (let k = 0; k < piece.count; k++, row++) {
        pieceOf[row] = index;
        emailStart[row] = emailAt;
        fieldStart[row] = fieldAt;
        emailAt += block.emailLengths[row]! + SEPARATOR.length;
        fieldAt += block.fieldLengths[row]! + SEPARATOR.length;
      }
    });
    const firstRetained = retained.length;
    for (const piece of block.pieces) retained.push(piece.emails);
    const emailOf = (r: number) => block.pieces[pieceOf[r]!]!.emails.slice(emailStart[r]!, emailStart[r]! + block.emailLengths[r]!);

    const duplicate = new Uint8Array(block.rows);
    const problems = [...block.problems];
    for (let k = 0; k < block.rows; k++) {
      const r = block.fileOrder[k]!;
      const id = remember(firstRetained + pieceOf[r]!, emailStart[r]!, block.emailLengths[r]!);
      if (!seen.add(block.hashHi[r]!, block.hashLo[r]!, id)) {
        accepted--; // not kept: its id is reused
        duplicate[r] = 1;
        problems.push({ lineNo: block.lineOffsets[r]!, kind: 'duplicate', detail: `duplicate address ${emailOf(r)}` });
      }
    }

    row = 0;
    for (const piece of block.pieces) {
      // Spread rows go round-robin by line, starting with the first data line (2) on deployment 0.
      const deployment = piece.group < deployments ? (((piece.group + base - 2) % deployments) + deployments) % deployments : piece.group - deployments;
      let dups = 0;
      for (let k = 0; k < piece.count; k++) dups += duplicate[row + k]!;
      if (dups === 0) {
        options.onPiece(deployment, piece.count, piece.emails, piece.fields);
      } else if (dups < piece.count) {
        const emails: string[] = [];
        const fields: string[] = [];
        for (let k = 0; k < piece.count; k++) {
          const r = row + k;
          if (duplicate[r]) continue;
          emails.push(emailOf(r));
          fields.push(piece.fields.slice(fieldStart[r]!, fieldStart[r]! + block.fieldLengths[r]!));
        }
        options.onPiece(deployment, emails.length, emails.join(SEPARATOR), fields.join(SEPARATOR));
      }
      row += piece.count;
    }

    problems.sort((a, b) => a.lineNo - b.lineNo);
    for (const problem of problems) options.onProblem({ ...problem, lineNo: base + problem.lineNo });
    nextLine += block.lines;
  };

  const settle = async () => {
    const block = inFlight.shift()!;
    try {
      consume(await block);
    } catch (error) {
      if (error instanceof CsvSyntaxError) {
        throw new AudienceFileError(`the file is not valid CSV: line ${nextLine + error.lineNo}: ${error.detail}`);
      }
      throw error;
    }
  };

  try {
    for await (const bytes of csvBlocks(source, options.blockBytes)) {
      let block = bytes;
      if (!layout) {
        const header = readHeader(bytes);
        layout = header.layout;
        nextLine += header.lines;
        block = header.rest;
        options.onHeader?.(layout.fieldColumns.map((c) => c.name));
      }
      if (block.length > 0) {
        const pending = validate(block, layout, options.deploymentCount);
        pending.catch(() => undefined); // awaited in order by settle(); not unhandled meanwhile
        inFlight.push(pending);
      }
      while (inFlight.length >= BLOCKS_IN_FLIGHT) await settle();
      await options.afterBlock?.();
    }
    while (inFlight.length > 0) {
      await settle();
      await options.afterBlock?.();
    }
  } catch (error) {
    await Promise.allSettled(inFlight);
    if (error instanceof CsvSyntaxError) throw new AudienceFileError(`the file is not valid CSV: ${error.message}`);
    throw error;
  }
  if (!layout) throw new AudienceFileError('the file is empty: it needs a header line with an "email" column');
}
