/**
 * A streaming RFC 4180 CSV reader tuned for audience files: lines without quotes (nearly all of
 * them) are split directly; quoted fields, doubled quotes and line breaks inside quotes go through
 * a small state machine. Records come out in arrays per input chunk, with the line each starts on.
 * csv-parse is correct but spends ~10× longer per row, which the import benchmark cannot afford.
 */
/**
 * A record is either a raw line without quotes (split on commas when needed, so a caller on a
 * fast path can avoid the split) or the fields of a record that had quotes.
 */
export type CsvRecord = { lineNo: number; raw: string; fields?: undefined } | { lineNo: number; fields: string[]; raw?: undefined };

export const fieldsOf = (record: CsvRecord): string[] => record.fields ?? record.raw.split(',');

export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly lineNo: number,
  ) {
    super(`line ${lineNo}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

export interface CsvReaderOptions {
  /** A record longer than this is refused, so one endless quoted field cannot exhaust memory. */
  maxRecordChars?: number;
}

export async function* readCsvRecords(chunks: AsyncIterable<Buffer | string>, options: CsvReaderOptions = {}): AsyncGenerator<CsvRecord[]> {
  const maxRecord = options.maxRecordChars ?? 64 * 1024;
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let text = '';
  let lineNo = 1;
  let first = true;

  for await (const chunk of chunks) {
    text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const { records, consumed, lines } = parseComplete(text, lineNo, false, maxRecord);
    text = text.slice(consumed);
    lineNo += lines;
    if (text.length > maxRecord) throw new CsvSyntaxError(`a record is longer than ${maxRecord} characters (unclosed quote?)`, lineNo);
    if (records.length) yield records;
  }
  text += decoder.decode();
  const { records } = parseComplete(text, lineNo, true, maxRecord);
  if (records.length) yield records;
}

function parseComplete(text: string, startLine: number, final: boolean, maxRecord: number) {
  const records: CsvRecord[] = [];
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
      let lineEnd = end;
      if (lineEnd > pos && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
      if (lineEnd > pos) records.push({ raw: text.slice(pos, lineEnd), lineNo: line });
      pos = end + 1;
      line++;
      continue;
    }
    const quoted = parseQuotedRecord(text, pos, line, final);
    if (!quoted) break; // needs more input
    if (quoted.end - pos > maxRecord) throw new CsvSyntaxError(`a record is longer than ${maxRecord} characters`, line);
    records.push({ fields: quoted.fields, lineNo: line });
    line += quoted.lines;
    pos = quoted.end;
  }
  return { records, consumed: Math.min(pos, length), lines: line - startLine };
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
      // quoted field
      pos++;
      for (;;) {
        const close = text.indexOf('"', pos);
        if (close === -1) {
          if (final) throw new CsvSyntaxError('a quoted field is never closed', line + lines);
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
        stop++; // a quote inside an unquoted field is kept as a literal, as most exporters mean it

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
