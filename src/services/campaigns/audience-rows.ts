import { checkEmail } from '../../domain/email.js';
import { jsonStrings } from './audience-chunks.js';
import { parseCsvText, splitLine } from './csv-records.js';

/**
 * Row validation of an audience CSV, one block (a run of whole records) at a time. Pure and
 * self-contained so that it runs the same on the main thread or in a worker thread; duplicates
 * across blocks are decided afterwards, in file order, by the reader (audience-csv.ts).
 */
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

export interface HeaderLayout {
  emailIndex: number;
  deploymentIndex: number | undefined;
  fieldColumns: { index: number; name: string }[];
  width: number;
}

/** Valid rows of a block in columns (cheap to pass between threads), plus its problems. */
export interface ValidatedBlock {
  count: number;
  emails: string[];
  /** The dedupe key when it differs from the address (upper case in the local part), else ''. */
  keys: string[];
  hashes: Uint32Array;
  /** 0-based deployment a row is pinned to, or -1. */
  deployments: Int32Array;
  valuesJson: string[];
  /** Line numbers relative to the block: its first line is 0. */
  lineOffsets: Int32Array;
  problems: RowProblem[];
  /** Lines the block spans (its line breaks). */
  lines: number;
}

const FIELD_NAME = /^[a-z][a-z0-9_]{0,63}$/;

export function normaliseHeader(name: string): string {
  return name
    .normalize('NFKC')
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

export function layoutOf(header: string[]): HeaderLayout {
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

/** FNV-1a over UTF-16 code units: a cheap first filter for the duplicate check. */
export function keyHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const NUL = 0;
const COMMA = 44;
const SPACE = 32;
const BACKSLASH = 92;

function hasNul(record: string[]): boolean {
  for (const value of record) if (value.indexOf('\u0000') !== -1) return true;
  return false;
}

export function validateBlock(text: string, layout: HeaderLayout, deploymentCount: number): ValidatedBlock {
  const emails: string[] = [];
  const keys: string[] = [];
  const hashes: number[] = [];
  const deployments: number[] = [];
  const valuesJson: string[] = [];
  const lineOffsets: number[] = [];
  const problems: RowProblem[] = [];
  // The common file (email first, no deployment column) takes a path that never splits a line.
  const simple = layout.emailIndex === 0 && layout.deploymentIndex === undefined;
  const invalid = (lineNo: number, detail: string) => {
    problems.push({ lineNo, kind: 'invalid', detail });
  };
  const accept = (lineNo: number, address: string, key: string, deployment: number, values: string) => {
    emails.push(address);
    keys.push(key === address ? '' : key);
    hashes.push(keyHash(key));
    deployments.push(deployment);
    valuesJson.push(values);
    lineOffsets.push(lineNo);
  };

  const record = (fields: string[], lineNo: number) => {
    if (fields.length !== layout.width) {
      if (fields.length === 1 && fields[0]!.trim() === '') return; // a blank line
      return invalid(lineNo, `expected ${layout.width} fields, found ${fields.length}`);
    }
    if (hasNul(fields)) return invalid(lineNo, 'contains a NUL byte');
    const check = checkEmail(fields[layout.emailIndex]!);
    if (!check.ok) return invalid(lineNo, check.problem);
    let deployment = -1;
    if (layout.deploymentIndex !== undefined) {
      const value = fields[layout.deploymentIndex]!.trim();
      if (value !== '') {
        const n = Number(value);
        if (!/^\d+$/.test(value) || n < 1 || n > deploymentCount) {
          return invalid(lineNo, `deployment must be a number from 1 to ${deploymentCount}`);
        }
        deployment = n - 1;
      }
    }
    accept(lineNo, check.address, check.key, deployment, jsonStrings(layout.fieldColumns.map((column) => fields[column.index]!)));
  };

  const commaAt: number[] = [];
  /** One pass over a quote-free line: field count, NUL, and whether the values need JSON escapes. */
  const line = (source: string, start: number, end: number, lineNo: number) => {
    if (!simple) return record(splitLine(source, start, end), lineNo);
    let commas = 0;
    let escapes = false;
    for (let i = start; i < end; i++) {
      const c = source.charCodeAt(i);
      if (c === COMMA) {
        commaAt[commas++] = i;
      } else if (c < SPACE || c === BACKSLASH || c === 0x2028 || c === 0x2029) {
        if (c === NUL) return invalid(lineNo, 'contains a NUL byte');
        escapes = true;
      }
    }
    if (commas !== layout.width - 1) {
      if (commas === 0 && source.slice(start, end).trim() === '') return; // a blank line
      return invalid(lineNo, `expected ${layout.width} fields, found ${commas + 1}`);
    }
    const check = checkEmail(source.slice(start, commas === 0 ? end : commaAt[0]));
    if (!check.ok) return invalid(lineNo, check.problem);
    let values = '[]';
    if (commas > 0) {
      if (escapes) {
        values = jsonStrings(source.slice(commaAt[0]! + 1, end).split(','));
      } else {
        // No quotes, backslashes or control characters: the values are valid JSON strings as they are.
        values = '["';
        for (let k = 1; k < commas; k++) values += `${source.slice(commaAt[k - 1]! + 1, commaAt[k])}","`;
        values += `${source.slice(commaAt[commas - 1]! + 1, end)}"]`;
      }
    }
    accept(lineNo, check.address, check.key, -1, values);
  };

  const lines = parseCsvText(text, 0, { line, record });
  return {
    count: emails.length,
    emails,
    keys,
    hashes: Uint32Array.from(hashes),
    deployments: Int32Array.from(deployments),
    valuesJson,
    lineOffsets: Int32Array.from(lineOffsets),
    problems,
    lines,
  };
}
