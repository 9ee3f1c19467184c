/**
 * Address validation for imports: the practical subset of RFC 5321/5322 that mail systems accept
 * (no quoted local parts, no IP literals), so a bad row is caught at import and not as a bounce.
 * Written as one pass over character codes: it runs once per imported row, millions of times.
 */
export type EmailCheck = { ok: true; address: string; key: string } | { ok: false; problem: string };

const LOCAL_CHAR = new Uint8Array(128);
const DOMAIN_CHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-") LOCAL_CHAR[c.charCodeAt(0)] = 1;
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-') DOMAIN_CHAR[c.charCodeAt(0)] = 1;

const DOT = 46;
const HYPHEN = 45;
const fail = (problem: string): EmailCheck => ({ ok: false, problem });
const BAD_LOCAL = 'email local part has characters mail systems refuse';
const BAD_DOMAIN = 'email domain is not a valid host name';

const isUpper = (c: number) => c >= 65 && c <= 90;
const isDigit = (c: number) => c >= 48 && c <= 57;

export function checkEmail(raw: string): EmailCheck {
  let text = raw;
  if (text.length > 0 && (text.charCodeAt(0) <= 32 || text.charCodeAt(text.length - 1) <= 32)) text = text.trim();
  if (text === '') return fail('empty email');
  if (text.length > 254) return fail('email longer than 254 characters');
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return fail('email has no local part or no domain');
  if (at > 64) return fail('email local part longer than 64 characters');

  let upperInLocal = false;
  for (let i = 0; i < at; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT) {
      if (i === 0 || i === at - 1 || text.charCodeAt(i - 1) === DOT) return fail(BAD_LOCAL);
    } else if (c >= 128 || LOCAL_CHAR[c] === 0) {
      return fail(BAD_LOCAL);
    } else if (isUpper(c)) {
      upperInLocal = true;
    }
  }

  let upperInDomain = false;
  let labels = 0;
  let labelStart = at + 1;
  let labelAllDigits = true;
  for (let i = at + 1; i <= text.length; i++) {
    const c = i === text.length ? DOT : text.charCodeAt(i);
    if (c === DOT) {
      const length = i - labelStart;
      if (length === 0 || length > 63) return fail(BAD_DOMAIN);
      if (text.charCodeAt(labelStart) === HYPHEN || text.charCodeAt(i - 1) === HYPHEN) return fail(BAD_DOMAIN);
      labels++;
      if (i === text.length && labelAllDigits) return fail(BAD_DOMAIN);
      labelStart = i + 1;
      labelAllDigits = true;
      continue;
    }
    if (c >= 128 || DOMAIN_CHAR[c] === 0) return fail(BAD_DOMAIN);
    if (!isDigit(c)) labelAllDigits = false;
    if (isUpper(c)) upperInDomain = true;
  }
  if (labels < 2) return fail(BAD_DOMAIN);

  const address = upperInDomain ? `${text.slice(0, at)}@${text.slice(at + 1).toLowerCase()}` : text;
  // Local parts are case-sensitive in theory, but no real mailbox distinguishes them: one send each.
  return { ok: true, address, key: upperInLocal ? address.toLowerCase() : address };
}

export function emailDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
