/**
 * The stored merge-field line of one recipient (`audience_chunks.fields`, `deliveries.fields`),
 * written by the audience import and read by the send path, with its encoder, its parser and its
 * SQL reading side by side. A line is either
 *  - a JSON array of strings, the values in the order of `campaigns.field_names`, or
 *  - PLAIN_MARK (",") followed by the values as they were in the file, comma-separated: the
 *    import keeps a row that needs no escaping as it is, so ordinary rows never build JSON.
 * An audience chunk holds up to CHUNK_SIZE recipients' lines (and addresses) joined by
 * LINE_SEPARATOR; prefetch splits them into ledger rows.
 */
/** The CSV delimiter on purpose: the import keeps such a line as the file's text from the comma after the address on. */
export const PLAIN_MARK = ',';

/** Between the recipients of a chunk, as stored; in COPY text it is written COPY_LINE_SEPARATOR. */
export const LINE_SEPARATOR = '\n';
export const COPY_LINE_SEPARATOR = '\\n';

// eslint-disable-next-line no-control-regex
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/;

/** The JSON form of a line, without JSON.stringify's per-call cost in the common case. */
export function encodeFieldLine(values: string[]): string {
  let json = '[';
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    json += (i ? ',' : '') + (NEEDS_JSON_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`);
  }
  return `${json}]`;
}

/** A ledger row's merge-field values, from either form. */
export function parseFieldLine(line: string): string[] {
  if (line.startsWith(PLAIN_MARK)) return line.slice(1).split(',');
  const parsed: unknown = JSON.parse(line);
  return Array.isArray(parsed) ? parsed.map(String) : [];
}

/**
 * The same reading in SQL, as a json array, for a trusted column expression.
 * `regexp_split_to_array` keeps a single empty value, which `string_to_array` would drop.
 */
export const fieldLineAsJsonSql = (column: string) =>
  `case when left(${column}, 1) = '${PLAIN_MARK}' then to_json(regexp_split_to_array(substr(${column}, 2), ',')) else (${column})::json end`;
