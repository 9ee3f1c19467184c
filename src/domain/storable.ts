/**
 * What outside text and JSON must become before Postgres can hold it. `text` and `jsonb` refuse a
 * NUL, and `jsonb` refuses a lone UTF-16 surrogate (half of an emoji, left by cutting a string by
 * code units); an index entry holds at most 2,704 bytes; JSON nested thousands deep overflows
 * JavaScript's stack (recursive walks, JSON.stringify) and Postgres' (jsonb). A provider's reply
 * text can carry any of these, so they are dealt with here, once, before anything is stored.
 */
const REPLACEMENT = '\ufffd';
// A NUL or any surrogate: the quick look.
// eslint-disable-next-line no-control-regex -- a NUL is exactly what is looked for
const SUSPECT = /[\u0000\ud800-\udfff]/;
// A NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
// eslint-disable-next-line no-control-regex -- a NUL is exactly what is looked for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` with NULs and lone surrogates replaced (U+FFFD), cut to at most `maxCodePoints` whole characters. */
export function storableText(text: string, maxCodePoints = Infinity): string {
  // Nearly every text has neither: one quick look before the slower replacement.
  const clean = SUSPECT.test(text) ? text.replace(UNSTORABLE, REPLACEMENT) : text;
  if (clean.length <= maxCodePoints) return clean;
  // Cut by code points, never between the two halves of a surrogate pair.
  let end = 0;
  for (let points = 0; points < maxCodePoints && end < clean.length; points++) {
    const code = clean.charCodeAt(end);
    end += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
  }
  return clean.slice(0, end);
}

export interface JsonLimits {
  /** Containers nested deeper than this are written as `"…"`. */
  maxDepth: number;
  /** The text is cut after about this many characters. */
  maxChars: number;
  /** Object keys in sorted order (a canonical form, for hashing). */
  sortKeys?: boolean;
  /** Strings through storableText (for storing); as they are otherwise (for hashing). */
  storable?: boolean;
}

type Frame = { value: unknown[] | Record<string, unknown>; keys: string[] | undefined; next: number };

/**
 * `value` (parsed JSON) written as JSON text without recursion, within `limits`. `complete` is
 * false when something was left out (too deep) or the text was cut (too long): the text is then a
 * preview, not necessarily valid JSON. Within the limits and with `sortKeys`, the text is the
 * canonical JSON: object keys sorted at every level, no spaces, as JSON.stringify writes values.
 */
export function boundedJson(value: unknown, limits: JsonLimits): { text: string; complete: boolean } {
  let text = '';
  let complete = true;
  const stack: Frame[] = [];
  const scalar = (v: unknown) => (typeof v === 'string' && limits.storable ? JSON.stringify(storableText(v)) : JSON.stringify(v)) ?? 'null';
  const open = (v: unknown) => {
    if (v === null || typeof v !== 'object') {
      text += scalar(v);
    } else if (stack.length >= limits.maxDepth) {
      complete = false;
      text += '"…"';
    } else if (Array.isArray(v)) {
      text += '[';
      stack.push({ value: v, keys: undefined, next: 0 });
    } else {
      const keys = Object.keys(v);
      if (limits.sortKeys) keys.sort();
      text += '{';
      stack.push({ value: v as Record<string, unknown>, keys, next: 0 });
    }
  };

  open(value);
  while (stack.length > 0 && text.length <= limits.maxChars) {
    const frame = stack.at(-1)!;
    const { keys } = frame;
    const size = keys ? keys.length : (frame.value as unknown[]).length;
    if (frame.next >= size) {
      stack.pop();
      text += keys ? '}' : ']';
      continue;
    }
    if (frame.next > 0) text += ',';
    const at = frame.next++;
    if (keys) {
      text += `${scalar(keys[at])}:`;
      open((frame.value as Record<string, unknown>)[keys[at]!]);
    } else {
      open((frame.value as unknown[])[at]);
    }
  }
  if (stack.length > 0 || text.length > limits.maxChars) complete = false;
  return { text: complete ? text : storableText(text, limits.maxChars), complete };
}

/** Whether `value` (parsed JSON) nests no deeper than `maxDepth` containers; walks without recursion and stops early. */
export function nestingWithin(value: unknown, maxDepth: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  const items: object[] = [value];
  const depths: number[] = [0];
  while (items.length > 0) {
    const item = items.pop()! as Record<string, unknown>;
    const depth = depths.pop()!;
    if (depth >= maxDepth) return false;
    for (const key in item) {
      const child = item[key];
      if (child !== null && typeof child === 'object') {
        items.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return true;
}
