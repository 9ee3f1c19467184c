import { COPY_LINE_SEPARATOR, encodeFieldLine } from '../../db/field-line.js';
import { checkEmail } from '../../domain/email.js';
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

/**
 * Up to CHUNK_SIZE valid rows of one group, in file order, already in COPY text: addresses and
 * merge-field lines each joined by the COPY escape `\n`. A row's line is in the format of
 * db/field-line.ts: JSON, or for the common row with nothing to escape the values as they were
 * in the file after a comma. A group is a spread class
 * (line number mod K, turned into a deployment by the reader, which knows absolute line numbers)
 * or, for rows with a `deployment` column, K + that deployment.
 */
export interface BlockPiece {
  group: number;
  count: number;
  emails: string;
  fields: string;
}

/**
 * The valid rows of a block, in pieces, with per-row columns (in piece order) that let the reader
 * find duplicates without touching strings: a 64-bit key hash, the line, and each row's lengths
 * in the piece texts (to cut a duplicate out, or read an address back).
 */
export interface ValidatedBlock {
  rows: number;
  pieces: BlockPiece[];
  hashHi: Uint32Array;
  hashLo: Uint32Array;
  /** Line numbers relative to the block: its first line is 0. */
  lineOffsets: Int32Array;
  emailLengths: Int32Array;
  fieldLengths: Int32Array;
  /** Row indexes (in piece order) listed in file order: duplicates are decided in file order. */
  fileOrder: Int32Array;
  problems: RowProblem[];
  /** Lines the block spans (its line breaks). */
  lines: number;
}

export const CHUNK_SIZE = 100;

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

/**
 * Two 32-bit hashes (FNV-1a and a multiplicative one) of a key, a 64-bit first filter for
 * duplicates, written to `out` (no allocation per row).
 */
export function keyHashes(key: string, out: Uint32Array): void {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b + c, 0x85ebca6b) ^ (b >>> 13);
  }
  out[0] = a >>> 0;
  out[1] = (b ^ (b >>> 16)) >>> 0;
}

/** The duplicate key of a validated address: lower case only when the local part has capitals. */
export function dedupeKey(address: string): string {
  const at = address.lastIndexOf('@');
  for (let i = 0; i < at; i++) {
    const c = address.charCodeAt(i);
    if (c >= 65 && c <= 90) return address.toLowerCase();
  }
  return address;
}

/** COPY text format: the JSON has no raw tabs or newlines, so only backslashes need doubling. */
function copyText(value: string): string {
  return value.indexOf('\\') === -1 ? value : value.replace(/\\/g, '\\\\');
}

const NUL = 0;
const COMMA = 44;
const SPACE = 32;
const BACKSLASH = 92;

function hasNul(record: string[]): boolean {
  for (const value of record) if (value.indexOf('\u0000') !== -1) return true;
  return false;
}

/** Rows were accepted in file order, so row index order is file order; invert piece order. */
function fileOrderOf(order: Int32Array, rows: number): Int32Array {
  const positions = new Int32Array(rows);
  for (let position = 0; position < rows; position++) positions[order[position]!] = position;
  return positions;
}

interface OpenPiece extends BlockPiece {
  rowIndexes: number[];
}

/** A growable column of 32-bit integers. */
class Column {
  values = new Int32Array(4096);
  length = 0;
  push(value: number) {
    if (this.length === this.values.length) {
      const bigger = new Int32Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = value;
  }
}

export function validateBlock(text: string, layout: HeaderLayout, deploymentCount: number): ValidatedBlock {
  const problems: RowProblem[] = [];
  const pieces: BlockPiece[] = [];
  const open = new Map<number, OpenPiece>();
  // Per-row columns in row (= file) order; `order` lists rows in piece order.
  const hashHi = new Column();
  const hashLo = new Column();
  const lineOffsets = new Column();
  const emailLengths = new Column();
  const fieldLengths = new Column();
  const order = new Column();
  const hash = new Uint32Array(2);
  // The common file (email first, no deployment column) takes a path that never splits a line.
  const simple = layout.emailIndex === 0 && layout.deploymentIndex === undefined;
  const invalid = (lineNo: number, detail: string) => {
    problems.push({ lineNo, kind: 'invalid', detail });
  };
  const close = (piece: OpenPiece) => {
    pieces.push({ group: piece.group, count: piece.count, emails: piece.emails, fields: piece.fields });
    for (const row of piece.rowIndexes) order.push(row);
    open.delete(piece.group);
  };
  /** `values`: a JSON array, or (`plain`) a comma followed by comma-separated plain values. */
  const accept = (lineNo: number, address: string, key: string, pinned: number, values: string, plain: boolean) => {
    const row = lineOffsets.length;
    keyHashes(key, hash);
    const fields = plain ? values : copyText(values);
    hashHi.push(hash[0]!);
    hashLo.push(hash[1]!);
    lineOffsets.push(lineNo);
    emailLengths.push(address.length);
    fieldLengths.push(fields.length);
    const group = pinned === -1 ? lineNo % deploymentCount : deploymentCount + pinned;
    const piece = open.get(group);
    if (!piece) {
      open.set(group, { group, count: 1, emails: address, fields, rowIndexes: [row] });
      return;
    }
    piece.emails += COPY_LINE_SEPARATOR + address;
    piece.fields += COPY_LINE_SEPARATOR + fields;
    piece.rowIndexes.push(row);
    if (++piece.count === CHUNK_SIZE) close(piece);
  };
  const record = (fields: string[], lineNo: number) => {
    if (fields.length !== layout.width) {
      if (fields.length === 1 && fields[0]!.trim() === '') return; // a blank line
      return invalid(lineNo, `expected ${layout.width} fields, found ${fields.length}`);
    }
    if (hasNul(fields)) return invalid(lineNo, 'contains a NUL byte');
    const check = checkEmail(fields[layout.emailIndex]!);
    if (!check.ok) return invalid(lineNo, check.problem);
    let pinned = -1;
    if (layout.deploymentIndex !== undefined) {
      const value = fields[layout.deploymentIndex]!.trim();
      if (value !== '') {
        const n = Number(value);
        if (!/^\d+$/.test(value) || n < 1 || n > deploymentCount) {
          return invalid(lineNo, `deployment must be a number from 1 to ${deploymentCount}`);
        }
        pinned = n - 1;
      }
    }
    accept(lineNo, check.address, check.key, pinned, encodeFieldLine(layout.fieldColumns.map((column) => fields[column.index]!)), false);
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
    if (commas === 0) return accept(lineNo, check.address, check.key, -1, '[]', false);
    if (escapes) return accept(lineNo, check.address, check.key, -1, encodeFieldLine(source.slice(commaAt[0]! + 1, end).split(',')), false);
    // No quotes, backslashes or control characters: keep the values as they are, from the comma
    // after the address on (the plain form of db/field-line.ts).
    accept(lineNo, check.address, check.key, -1, source.slice(commaAt[0]!, end), true);
  };

  const lines = parseCsvText(text, 0, { line, record });
  for (const piece of [...open.values()]) close(piece);
  const rows = order.length;
  const inPieceOrder = (column: Column) => {
    const out = new Int32Array(rows);
    for (let i = 0; i < rows; i++) out[i] = column.values[order.values[i]!]!;
    return out;
  };
  const hi = inPieceOrder(hashHi);
  const lo = inPieceOrder(hashLo);
  return {
    rows,
    pieces,
    hashHi: new Uint32Array(hi.buffer),
    hashLo: new Uint32Array(lo.buffer),
    lineOffsets: inPieceOrder(lineOffsets),
    emailLengths: inPieceOrder(emailLengths),
    fieldLengths: inPieceOrder(fieldLengths),
    fileOrder: fileOrderOf(order.values, rows),
    problems,
    lines,
  };
}
