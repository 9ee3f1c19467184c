import type { Readable } from 'node:stream';
import { checkEmail } from '../../domain/email.js';
import { jsonStrings, NEEDS_JSON_ESCAPE } from './audience-chunks.js';
import { CsvSyntaxError, fieldsOf, readCsvRecords } from './csv-records.js';

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
  /** Merge-field values as a JSON array, in the order of the field names given to `onHeader`. */
  valuesJson: string;
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
  onHeader?(fieldNames: string[]): void;
  onProblem(problem: RowProblem): void;
}

function hasNul(record: string[]): boolean {
  for (const value of record) if (value.indexOf('\u0000') !== -1) return true;
  return false;
}

export async function* readAudience(source: Readable, options: ReadAudienceOptions): AsyncGenerator<AudienceRow[]> {
  let layout: HeaderLayout | undefined;
  // The common file (email first, no deployment column) takes a path that never splits a line.
  let simple = false;
  const seen = new Set<string>();
  const invalid = (lineNo: number, detail: string) => options.onProblem({ lineNo, kind: 'invalid', detail });

  /** Adds the key; false when it was already there (one hash lookup, not two). */
  const firstSighting = (key: string) => {
    const before = seen.size;
    seen.add(key);
    return seen.size !== before;
  };

  try {
    for await (const records of readCsvRecords(source)) {
      const rows: AudienceRow[] = [];
      for (const record of records) {
        const { lineNo } = record;
        if (!layout) {
          layout = layoutOf(fieldsOf(record));
          simple = layout.emailIndex === 0 && layout.deploymentIndex === undefined;
          options.onHeader?.(layout.fieldColumns.map((c) => c.name));
          continue;
        }
        if (simple && record.raw !== undefined) {
          const raw = record.raw;
          if (raw.indexOf('\u0000') !== -1) {
            invalid(lineNo, 'contains a NUL byte');
            continue;
          }
          const comma = raw.indexOf(',');
          let commas = 0;
          for (let i = comma; i !== -1; i = raw.indexOf(',', i + 1)) commas++;
          if (commas !== layout.width - 1) {
            if (commas === 0 && raw.trim() === '') continue; // a blank line
            invalid(lineNo, `expected ${layout.width} fields, found ${commas + 1}`);
            continue;
          }
          const check = checkEmail(comma === -1 ? raw : raw.slice(0, comma));
          if (!check.ok) {
            invalid(lineNo, check.problem);
            continue;
          }
          if (!firstSighting(check.key)) {
            options.onProblem({ lineNo, kind: 'duplicate', detail: `duplicate address ${check.address}` });
            continue;
          }
          let valuesJson = '[]';
          if (comma !== -1) {
            const rest = raw.slice(comma + 1);
            valuesJson = NEEDS_JSON_ESCAPE.test(rest) ? jsonStrings(rest.split(',')) : `["${rest.replaceAll(',', '","')}"]`;
          }
          rows.push({ lineNo, email: check.address, deployment: undefined, valuesJson });
          continue;
        }

        const fields = fieldsOf(record);
        if (fields.length !== layout.width) {
          if (fields.length === 1 && fields[0]!.trim() === '') continue; // a blank line
          invalid(lineNo, `expected ${layout.width} fields, found ${fields.length}`);
          continue;
        }
        if (hasNul(fields)) {
          invalid(lineNo, 'contains a NUL byte');
          continue;
        }
        const check = checkEmail(fields[layout.emailIndex]!);
        if (!check.ok) {
          invalid(lineNo, check.problem);
          continue;
        }
        let deployment: number | undefined;
        if (layout.deploymentIndex !== undefined) {
          const text = fields[layout.deploymentIndex]!.trim();
          if (text !== '') {
            const n = Number(text);
            if (!/^\d+$/.test(text) || n < 1 || n > options.deploymentCount) {
              invalid(lineNo, `deployment must be a number from 1 to ${options.deploymentCount}`);
              continue;
            }
            deployment = n - 1;
          }
        }
        if (!firstSighting(check.key)) {
          options.onProblem({ lineNo, kind: 'duplicate', detail: `duplicate address ${check.address}` });
          continue;
        }
        rows.push({ lineNo, email: check.address, deployment, valuesJson: jsonStrings(layout.fieldColumns.map((column) => fields[column.index]!)) });
      }
      if (rows.length) yield rows;
    }
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new AudienceFileError(`the file is not valid CSV: ${error.message}`);
    throw error;
  }
  if (!layout) throw new AudienceFileError('the file is empty: it needs a header line with an "email" column');
}
