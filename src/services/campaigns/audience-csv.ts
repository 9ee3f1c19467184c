import type { Readable } from 'node:stream';
import { AudienceFileError, layoutOf, type HeaderLayout, type RowProblem, type ValidatedBlock } from './audience-rows.js';
import { validateInline, type BlockValidator } from './audience-workers.js';
import { csvBlocks, firstBoundary } from './csv-blocks.js';
import { CsvSyntaxError, parseCsvText } from './csv-records.js';
import { KeySet } from './key-set.js';

export { AudienceFileError, type RowProblem } from './audience-rows.js';

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
   * A valid, first-seen recipient: the deployment it is pinned to (0-based) or undefined, its
   * address, and its merge-field values as a JSON array in the order given to `onHeader`.
   */
  onRow(deployment: number | undefined, email: string, valuesJson: string): void;
  /** Awaited after each block, for backpressure towards the database. */
  afterBlock?(): Promise<void>;
  validate?: BlockValidator;
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
  const seen = new KeySet();
  const inFlight: Promise<ValidatedBlock>[] = [];
  let layout: HeaderLayout | undefined;
  let nextLine = 1;

  /** Hands over a validated block in file order, merging its problems with the duplicates found here. */
  const consume = (block: ValidatedBlock) => {
    const base = nextLine;
    const problems = block.problems;
    let p = 0;
    for (let i = 0; i < block.count; i++) {
      const lineOffset = block.lineOffsets[i]!;
      while (p < problems.length && problems[p]!.lineNo < lineOffset) {
        options.onProblem({ ...problems[p]!, lineNo: base + problems[p]!.lineNo });
        p++;
      }
      const email = block.emails[i]!;
      if (!seen.add(block.keys[i] || email, block.hashes[i]!)) {
        options.onProblem({ lineNo: base + lineOffset, kind: 'duplicate', detail: `duplicate address ${email}` });
        continue;
      }
      const deployment = block.deployments[i]!;
      options.onRow(deployment === -1 ? undefined : deployment, email, block.valuesJson[i]!);
    }
    for (; p < problems.length; p++) options.onProblem({ ...problems[p]!, lineNo: base + problems[p]!.lineNo });
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
    for await (const bytes of csvBlocks(source)) {
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
