import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

export const ID_PREFIXES = { campaign: 'cmp', deployment: 'dep', batch: 'bat', alert: 'alr', relayFault: 'rly' } as const;
export type IdKind = keyof typeof ID_PREFIXES;

const ID_BODY_LENGTH = 10;
/** Strict allowlist: anything else is refused before it reaches the database. */
export const ID_PATTERN = /^(cmp|dep|bat|alr|rly)_[0-9a-hjkmnp-tv-z]{10}$/;

export function newId(kind: IdKind): string {
  const bytes = randomBytes(ID_BODY_LENGTH);
  let body = '';
  for (const byte of bytes) body += ALPHABET[byte & 31];
  return `${ID_PREFIXES[kind]}_${body}`;
}

export function idKind(id: string): IdKind | undefined {
  if (!ID_PATTERN.test(id)) return undefined;
  const prefix = id.slice(0, 3);
  return (Object.keys(ID_PREFIXES) as IdKind[]).find((kind) => ID_PREFIXES[kind] === prefix);
}
