import { describe, expect, it } from 'vitest';
import { checkEmail, emailDomain } from '../../../src/domain/email.js';

function accepted(raw: string): { address: string; key: string } {
  const result = checkEmail(raw);
  expect(result, `expected ${JSON.stringify(raw)} to be accepted`).toMatchObject({ ok: true });
  if (!result.ok) throw new Error('unreachable');
  return result;
}

function refusedProblem(raw: string): string {
  const result = checkEmail(raw);
  expect(result.ok, `expected ${JSON.stringify(raw)} to be refused`).toBe(false);
  if (result.ok) throw new Error('unreachable');
  return result.problem;
}

/** An address of exactly `length` characters: 64-char local part, labels of at most 63. */
function addressOfLength(length: number): string {
  const local = 'l'.repeat(64);
  let domainLength = length - local.length - 1;
  const labels: string[] = [];
  const tld = 'com';
  domainLength -= tld.length;
  while (domainLength > 0) {
    const size = Math.min(63, domainLength - 1); // minus the dot after it
    labels.push('d'.repeat(size));
    domainLength -= size + 1;
  }
  const address = `${local}@${[...labels, tld].join('.')}`;
  expect(address.length).toBe(length);
  return address;
}

describe('checkEmail: accepted', () => {
  it.each([
    'a@example.com',
    'first.last@example.com',
    'user+tag@example.com',
    'user+tag+more@example.com',
    'user@mail.sub.example.co.uk',
    'x@a.io',
    "o'brien@example.ie",
    'under_score-dash@ex-ample.com',
    'digits123@123example.com',
    '!#$%&*+/=?^_`{|}~-@example.com',
    'a@xn--bcher-kva.de',
  ])('%s', (raw) => {
    expect(accepted(raw).address).toBe(raw);
  });

  it('lower-cases the domain, keeps the local part, and lower-cases the key', () => {
    const result = accepted('John.Doe+News@Example.COM');
    expect(result.address).toBe('John.Doe+News@example.com');
    expect(result.key).toBe('john.doe+news@example.com');
  });

  it('gives the same key to addresses differing only by case', () => {
    expect(accepted('ALICE@EXAMPLE.COM').key).toBe(accepted('alice@example.com').key);
  });

  it('trims surrounding whitespace', () => {
    expect(accepted('  a@example.com \t').address).toBe('a@example.com');
  });

  it('accepts an address of exactly 254 characters and a local part of exactly 64', () => {
    const address = addressOfLength(254);
    expect(accepted(address).address).toBe(address);
  });

  it('accepts a domain label of 63 characters', () => {
    accepted(`a@${'x'.repeat(63)}.com`);
  });
});

describe('checkEmail: refused', () => {
  it.each([
    ['empty', ''],
    ['whitespace only', '   '],
    ['no @', 'plainaddress'],
    ['no @, with domain', 'example.com'],
    ['@@', 'a@@example.com'],
    ['two @ positions', 'a@b@example.com'],
    ['@ at the end', 'a@example.com@'],
    ['empty local part', '@example.com'],
    ['empty domain', 'a@'],
    ['single-label domain', 'a@localhost'],
    ['trailing dot in domain', 'a@example.com.'],
    ['leading dot in domain', 'a@.example.com'],
    ['trailing dot in local part', 'a.@example.com'],
    ['leading dot in local part', '.a@example.com'],
    ['consecutive dots in local part', 'a..b@example.com'],
    ['consecutive dots in domain', 'a@example..com'],
    ['space in local part', 'a b@example.com'],
    ['space in domain', 'a@exa mple.com'],
    ['space around @', 'a @example.com'],
    ['quoted local part', '"a"@example.com'],
    ['quoted local part with space', '"a b"@example.com'],
    ['double quote inside', 'a"b@example.com'],
    ['Cyrillic а in local part', 'p\u0430ypal@example.com'],
    ['Cyrillic а in domain', 'user@ex\u0430mple.com'],
    ['Greek omicron in domain', 'user@g\u03bfogle.com'],
    ['full-width @', 'a\uff20example.com'],
    ['full-width letters', '\uff41@example.com'],
    ['zero-width space', 'a\u200b@example.com'],
    ['RTL override', 'a\u202e@example.com'],
    ['Unicode domain (not punycode)', 'a@b\u00fccher.de'],
    ['NUL in local part', 'a\u0000@example.com'],
    ['NUL at the end', 'a@example.com\u0000'],
    ['newline inside', 'a\n@example.com'],
    ['CRLF header injection', 'a@example.com\r\nBcc: x@y.com'],
    ['comma list', 'a@example.com,b@example.com'],
    ['angle brackets', '<a@example.com>'],
    ['display name', 'A <a@example.com>'],
    ['Slack mailto token', '<mailto:a@b.com|a@b.com>'],
    ['Slack mailto token (short)', '<mailto:a@b|a@b>'],
    ['domain label starting with -', 'a@-example.com'],
    ['domain label ending with -', 'a@example-.com'],
    ['label of 64 characters', `a@${'x'.repeat(64)}.com`],
    ['numeric TLD', 'a@example.123'],
    ['IPv4 address as domain', 'a@127.0.0.1'],
    ['IP literal', 'a@[127.0.0.1]'],
    ['IPv6 literal', 'a@[IPv6:::1]'],
    ['underscore in domain', 'a@ex_ample.com'],
    ['backslash', 'a\\b@example.com'],
    ['parenthesis comment', 'a(comment)@example.com'],
    ['colon', 'a:b@example.com'],
    ['semicolon', 'a;b@example.com'],
  ])('%s: %j', (_label, raw) => {
    expect(refusedProblem(raw)).toMatch(/\S/);
  });

  it('refuses an address longer than 254 characters', () => {
    expect(refusedProblem(addressOfLength(255))).toMatch(/254/);
  });

  it('refuses a local part longer than 64 characters', () => {
    expect(refusedProblem(`${'l'.repeat(65)}@example.com`)).toMatch(/64/);
  });

  it('refuses very long input without hanging', () => {
    const started = Date.now();
    refusedProblem(`${'a.'.repeat(50_000)}@example.com`);
    refusedProblem(`a@${'b.'.repeat(50_000)}com`);
    refusedProblem(`${'a'.repeat(64)}@${'a-'.repeat(90)}.com!`);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses non-ASCII look-alikes that case folding would turn into ASCII (Kelvin sign K)', () => {
    // U+212A KELVIN SIGN lower-cases to ASCII "k": the domain must be validated as typed, not after folding.
    refusedProblem('user@\u212Aelvin.com');
    refusedProblem('user@example.\u212Ae');
  });

  it('problems are short, one line, and do not echo the input', () => {
    for (const raw of ['<mailto:a@b|a@b>', 'a\n@example.com', `${'l'.repeat(65)}@x.com`, 'a@-x.com']) {
      const problem = refusedProblem(raw);
      expect(problem).not.toMatch(/[\r\n]/);
      expect(problem).not.toContain(raw);
      expect(problem.length).toBeLessThan(120);
    }
  });
});

describe('emailDomain', () => {
  it.each([
    ['a@example.com', 'example.com'],
    ['a@Example.COM', 'example.com'],
    ['a+tag@mail.sub.example.org', 'mail.sub.example.org'],
    ['John.Doe@EXAMPLE.co.uk', 'example.co.uk'],
  ])('%s -> %s', (address, domain) => {
    expect(emailDomain(address)).toBe(domain);
  });

  it('agrees with the address checkEmail returns', () => {
    const result = accepted('Someone@Mail.Example.NET');
    expect(emailDomain(result.address)).toBe('mail.example.net');
    expect(result.key.endsWith(`@${emailDomain(result.address)}`)).toBe(true);
  });
});
