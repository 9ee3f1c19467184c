/**
 * A ledger row's merge-field values. A stored field line is either a JSON array or, when no value
 * needed escaping, "," followed by the comma-separated values as imported (so the import never
 * builds JSON for ordinary rows).
 */
export function parseFieldLine(line: string): string[] {
  if (line.startsWith(',')) return line.slice(1).split(',');
  const parsed: unknown = JSON.parse(line);
  return Array.isArray(parsed) ? parsed.map(String) : [];
}
