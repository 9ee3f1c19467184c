/**
 * Address validation for imports: the practical subset of RFC 5321/5322 that mail systems accept
 * (no quoted local parts, no IP literals), so a bad row is caught at import and not as a bounce.
 */
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export type EmailCheck = { ok: true; address: string; key: string } | { ok: false; problem: string };

export function checkEmail(raw: string): EmailCheck {
  const text = raw.trim();
  if (text === '') return { ok: false, problem: 'empty email' };
  if (text.length > 254) return { ok: false, problem: 'email longer than 254 characters' };
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return { ok: false, problem: 'email has no local part or no domain' };
  const local = text.slice(0, at);
  const domain = text.slice(at + 1).toLowerCase();
  if (local.length > 64) return { ok: false, problem: 'email local part longer than 64 characters' };
  if (!LOCAL.test(local)) return { ok: false, problem: 'email local part has characters mail systems refuse' };
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) {
    return { ok: false, problem: 'email domain is not a valid host name' };
  }
  if (/^\d+$/.test(labels[labels.length - 1]!)) return { ok: false, problem: 'email domain is not a valid host name' };
  const address = `${local}@${domain}`;
  // Local parts are case-sensitive in theory, but no real mailbox distinguishes them: one send each.
  return { ok: true, address, key: address.toLowerCase() };
}

export function emailDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
