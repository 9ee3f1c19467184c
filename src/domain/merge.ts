import { ok, refused, type Result } from './result.js';

/**
 * Merge fields: `{{first_name}}` is replaced by the recipient's value, `{{email}}` by the address;
 * an unknown field becomes empty. Values live in a Map, not a plain object, so a field named like
 * an Object.prototype member (`{{constructor}}`, `{{toString}}`) is just an unknown field: a
 * plain object's lookup found the prototype's function, printed its source into bodies and made
 * every subject throw. In headers (the subject) values lose line breaks and control characters,
 * so a CSV value can never inject a header.
 */
const FIELD = /\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g;
/** Anything written like a tag, well-formed or not. */
const TAG_LIKE = /\{\{[^{}]*\}\}|\{\{[^{}]*$/gm;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]+/g;

export type MergeValues = ReadonlyMap<string, string>;

export function mergeValues(fieldNames: readonly string[], values: readonly string[], email: string): MergeValues {
  const merged = new Map<string, string>();
  fieldNames.forEach((name, i) => merged.set(name, values[i] ?? ''));
  merged.set('email', email);
  return merged;
}

export function renderText(template: string, values: MergeValues): string {
  return template.replace(FIELD, (_, name: string) => values.get(name) ?? '');
}

export function renderHeader(template: string, values: MergeValues): string {
  return template.replace(FIELD, (_, name: string) => (values.get(name) ?? '').replace(CONTROL, ' ')).replace(CONTROL, ' ').trim();
}

/**
 * A template checked before a campaign is created. A tag that is not a field name (`{{ First
 * Name }}`, `{{first-name}}`, an unclosed `{{name`) would reach recipients as written, so it is
 * refused, named. Fields the file does not have are allowed (they render empty) and returned, so
 * the operator can be told.
 */
export function checkTemplate(template: string, label: string, fieldNames: readonly string[]): Result<{ unknownFields: string[] }, 'invalid'> {
  for (const [tag] of template.matchAll(TAG_LIKE)) {
    if (!new RegExp(`^${FIELD.source}$`).test(tag)) {
      const shown = tag.length > 60 ? `${tag.slice(0, 60)}…` : tag;
      return refused('invalid', `${label}: ${shown} is not a merge field; write a column name in lower case with _ for spaces, like {{first_name}}`);
    }
  }
  const known = new Set([...fieldNames, 'email']);
  const unknownFields = [...new Set([...template.matchAll(FIELD)].map((m) => m[1]!))].filter((name) => !known.has(name));
  return ok({ unknownFields });
}
