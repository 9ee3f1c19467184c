/**
 * Merge fields: `{{first_name}}` is replaced by the recipient's value, `{{email}}` by the address;
 * an unknown field becomes empty. In headers (the subject) values lose line breaks and control
 * characters, so a CSV value can never inject a header.
 */
const FIELD = /\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]+/g;

export type MergeValues = Record<string, string>;

export function mergeValues(fieldNames: readonly string[], values: readonly string[], email: string): MergeValues {
  const merged: MergeValues = { email };
  fieldNames.forEach((name, i) => {
    merged[name] = values[i] ?? '';
  });
  return merged;
}

export function renderText(template: string, values: MergeValues): string {
  return template.replace(FIELD, (_, name: string) => values[name] ?? '');
}

export function renderHeader(template: string, values: MergeValues): string {
  return template.replace(FIELD, (_, name: string) => (values[name] ?? '').replace(CONTROL, ' ')).replace(CONTROL, ' ').trim();
}
