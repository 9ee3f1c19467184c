import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { checkEmail } from '../../domain/email.js';

/**
 * Streams a recipients CSV: the header must name an `email` column; other columns become merge
 * fields; an optional `deployment` column (1..K) pins a row to one deployment of a multi campaign.
 * Bad rows are reported with their line number and skipped; memory is bounded by the set of
 * addresses seen (needed to report duplicates) and a capped list of problems.
 */
export interface AudienceRow {
  lineNo: number;
  email: string;
  /** 0-based deployment index, or undefined to let the importer spread rows. */
  deployment: number | undefined;
  fields: Record<string, string> | undefined;
}

export interface RowProblem {
  lineNo: number;
  kind: 'invalid' | 'duplicate';
  detail: string;
}

export class AudienceFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AudienceFileError';
  }
}

export const MAX_LISTED_PROBLEMS = 1000;
const FIELD_NAME = /^[a-z][a-z0-9_]{0,63}$/;

export function normaliseHeader(name: string): string {
  return name
    .normalize('NFKC')
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

interface HeaderLayout {
  emailIndex: number;
  deploymentIndex: number | undefined;
  fieldColumns: { index: number; name: string }[];
  width: number;
}

function layoutOf(header: string[]): HeaderLayout {
  const names = header.map(normaliseHeader);
  const emailColumns = names.flatMap((name, index) => (name === 'email' ? [index] : []));
  if (emailColumns.length === 0) {
    const found = header.map((h) => JSON.stringify(h.slice(0, 40))).join(', ') || 'nothing';
    throw new AudienceFileError(`the CSV header must have an "email" column (line 1 has ${found})`);
  }
  if (emailColumns.length > 1) throw new AudienceFileError('the CSV header has more than one "email" column');
  const seen = new Set<string>();
  const fieldColumns: HeaderLayout['fieldColumns'] = [];
  let deploymentIndex: number | undefined;
  names.forEach((name, index) => {
    if (name === 'email') return;
    if (name === 'deployment') {
      deploymentIndex = index;
      return;
    }
    if (!FIELD_NAME.test(name)) {
      throw new AudienceFileError(`CSV column ${index + 1} ("${header[index]?.slice(0, 40)}") needs a name made of letters, digits and _`);
    }
    if (seen.has(name)) throw new AudienceFileError(`the CSV header names the column "${name}" twice`);
    seen.add(name);
    fieldColumns.push({ index, name });
  });
  return { emailIndex: emailColumns[0]!, deploymentIndex, fieldColumns, width: header.length };
}

export interface ReadAudienceOptions {
  deploymentCount: number;
  onProblem(problem: RowProblem): void;
}

export async function* readAudience(source: Readable, options: ReadAudienceOptions): AsyncGenerator<AudienceRow> {
  const parser = source.pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true, max_record_size: 64 * 1024 }),
  );
  source.on('error', (error) => parser.destroy(error));
  let layout: HeaderLayout | undefined;
  const seen = new Set<string>();
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!layout) {
        layout = layoutOf(record);
        continue;
      }
      const lineNo = info.lines;
      const problem = (kind: RowProblem['kind'], detail: string) => options.onProblem({ lineNo, kind, detail });
      if (record.length !== layout.width) {
        problem('invalid', `expected ${layout.width} fields, found ${record.length}`);
        continue;
      }
      if (record.some((value) => value.includes('\u0000'))) {
        problem('invalid', 'contains a NUL byte');
        continue;
      }
      const check = checkEmail(record[layout.emailIndex]!);
      if (!check.ok) {
        problem('invalid', check.problem);
        continue;
      }
      if (seen.has(check.key)) {
        problem('duplicate', `duplicate address ${check.address}`);
        continue;
      }
      let deployment: number | undefined;
      if (layout.deploymentIndex !== undefined) {
        const text = record[layout.deploymentIndex]!.trim();
        const n = Number(text);
        if (text !== '') {
          if (!/^\d+$/.test(text) || n < 1 || n > options.deploymentCount) {
            problem('invalid', `deployment must be a number from 1 to ${options.deploymentCount}`);
            continue;
          }
          deployment = n - 1;
        }
      }
      seen.add(check.key);
      let fields: Record<string, string> | undefined;
      if (layout.fieldColumns.length > 0) {
        fields = {};
        for (const column of layout.fieldColumns) fields[column.name] = record[column.index]!;
      }
      yield { lineNo, email: check.address, deployment, fields };
    }
  } catch (error) {
    if (error instanceof AudienceFileError) throw error;
    const code = (error as { code?: string }).code;
    if (code?.startsWith('CSV_')) {
      throw new AudienceFileError(`the file is not valid CSV: ${(error as Error).message}`);
    }
    throw error;
  }
  if (!layout) throw new AudienceFileError('the file is empty: it needs a header line with an "email" column');
}
