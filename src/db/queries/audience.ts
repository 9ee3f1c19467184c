/**
 * SQL that reads the merge-field values of one audience line as JSON. A line is stored either
 * as a JSON array or, when no value needed escaping, as "," followed by the comma-separated
 * values as imported (so the import never builds JSON for ordinary rows).
 * `regexp_split_to_array` keeps a single empty value, which `string_to_array` would drop.
 * `column` is an identifier of ours, never user input.
 */
export const audienceFieldsJson = (column: string) =>
  `case when left(${column}, 1) = ',' then to_json(regexp_split_to_array(substr(${column}, 2), ',')) else (${column})::json end`;

/** The same reading in TypeScript, for a ledger row's stored field line. */
export function parseFieldLine(line: string): string[] {
  if (line.startsWith(',')) return line.slice(1).split(',');
  const parsed: unknown = JSON.parse(line);
  return Array.isArray(parsed) ? parsed.map(String) : [];
}
