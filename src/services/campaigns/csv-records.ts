/**
 * An RFC 4180 CSV parser tuned for audience files, run on one block of whole records at a time
 * (csv-blocks.ts cuts the file into blocks). Lines without quotes (nearly all of
 * them) are handed over as offsets into the decoded text, so a caller on a fast path never has to
 * split or copy them; records with quoted fields, doubled quotes or line breaks inside quotes go
 * through a small state machine and are handed over as fields. csv-parse is correct but costs
 * about ten times more per row than the import benchmark can afford.
 */
export class CsvSyntaxError extends Error {
  constructor(
    readonly detail: string,
    readonly lineNo: number,
  ) {
    super(`line ${lineNo}: ${detail}`);
    this.name = 'CsvSyntaxError';
  }
}

export interface CsvHandler {
  /** A line without quotes: text[start, end), line break excluded; may be empty. */
  line(text: string, start: number, end: number, lineNo: number): void;
  /** A record that had quoted fields, starting on line `lineNo`. */
  record(fields: string[], lineNo: number): void;
}

export interface CsvReaderOptions {
  /** A record longer than this is refused, so one endless quoted field cannot exhaust memory. */
  maxRecordChars?: number;
}

export const splitLine = (text: string, start: number, end: number) => text.slice(start, end).split(',');

function parseComplete(text: string, startLine: number, final: boolean, maxRecord: number, handler: CsvHandler) {
  let pos = 0;
  let line = startLine;
  const length = text.length;
  // Searched once and moved forward only when passed: rescanning per line would be quadratic.
  let quote = text.indexOf('"');
  while (pos < length) {
    let end = text.indexOf('\n', pos);
    if (end === -1) {
      if (!final) break;
      end = length;
    }
    if (quote !== -1 && quote < pos) quote = text.indexOf('"', pos);
    if (quote === -1 || quote > end) {
      handler.line(text, pos, end > pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end, line);
      pos = end + 1;
      line++;
      continue;
    }
    const quoted = parseQuotedRecord(text, pos, line, final);
    if (!quoted) break; // needs more input
    if (quoted.end - pos > maxRecord) throw new CsvSyntaxError(`a record is longer than ${maxRecord} characters`, line);
    handler.record(quoted.fields, line);
    line += quoted.lines;
    pos = quoted.end;
  }
  return { consumed: Math.min(pos, length), lines: line - startLine };
}

/** Parses one record containing quotes from `start`; undefined when the input ends inside it. */
function parseQuotedRecord(text: string, start: number, line: number, final: boolean) {
  const fields: string[] = [];
  let field = '';
  let pos = start;
  let lines = 0;
  const length = text.length;
  for (;;) {
    if (pos < length && text.charCodeAt(pos) === 34) {
      pos++;
      for (;;) {
        const close = text.indexOf('"', pos);
        if (close === -1) {
          // The line the record starts on: where the fault is, however far the open quote ran.
          if (final) throw new CsvSyntaxError('a quoted field is never closed', line);
          return undefined;
        }
        const part = text.slice(pos, close);
        for (let i = part.indexOf('\n'); i !== -1; i = part.indexOf('\n', i + 1)) lines++;
        field += part;
        if (close + 1 < length && text.charCodeAt(close + 1) === 34) {
          field += '"';
          pos = close + 2;
          continue;
        }
        if (close + 1 >= length && !final) return undefined;
        pos = close + 1;
        break;
      }
      const next = pos < length ? text.charCodeAt(pos) : -1;
      if (next !== 44 && next !== 10 && next !== 13 && next !== -1) {
        throw new CsvSyntaxError('unexpected character after a closing quote', line + lines);
      }
    } else {
      let stop = pos;
      while (stop < length) {
        const c = text.charCodeAt(stop);
        if (c === 44 || c === 10 || c === 13) break;
        stop++; // a quote inside an unquoted field is kept as a literal, as exporters mean it
      }
      if (stop >= length && !final) return undefined;
      field += text.slice(pos, stop);
      pos = stop;
    }
    fields.push(field);
    field = '';
    const c = pos < length ? text.charCodeAt(pos) : -1;
    if (c === 44) {
      pos++;
      continue;
    }
    if (c === 13) pos++;
    if (pos < length && text.charCodeAt(pos) === 10) {
      pos++;
      lines++;
    } else if (pos >= length && !final) {
      return undefined;
    }
    return { fields, end: pos, lines: Math.max(lines, 1) };
  }
}

/** Parses a complete text (a block cut at a record boundary); returns how many lines it spans. */
export function parseCsvText(text: string, startLine: number, handler: CsvHandler, options: CsvReaderOptions = {}): number {
  return parseComplete(text, startLine, true, options.maxRecordChars ?? 64 * 1024, handler).lines;
}
