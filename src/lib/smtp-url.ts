/**
 * SMTP_URL read as nodemailer's `parseConnectionUrl` reads it — `smtp:` or `smtps:` (implicit
 * TLS), user and password, and query options named after nodemailer's SMTP connection options
 * (`requireTLS`, `name`, `tls.rejectUnauthorized`, …; "true"/"false" are booleans, digits are
 * numbers) — but strict: an option nodemailer does not read, one our own connection pool does not
 * use, or a value of the wrong kind is refused with a sentence naming it, where nodemailer would
 * ignore it. One rule is ours: credentials are never sent without TLS, so with a user in the URL
 * STARTTLS is required on `smtp:` and the options that would let the login go out in clear are
 * refused. `?tls=insecure` (skip certificate checks) is kept for relays with self-signed certificates.
 */
export interface SmtpConnectionSettings {
  host: string;
  port: number;
  secure: boolean;
  requireTLS: boolean;
  ignoreTLS: boolean;
  opportunisticTLS: boolean;
  name?: string;
  localAddress?: string;
  authMethod?: string;
  connectionTimeout?: number;
  greetingTimeout?: number;
  socketTimeout?: number;
  dnsTimeout?: number;
  tls: { rejectUnauthorized: boolean; servername?: string; minVersion?: TlsVersion; maxVersion?: TlsVersion; ciphers?: string };
}

export interface SmtpSettings {
  connection: SmtpConnectionSettings;
  auth: { user: string; pass: string } | undefined;
  /** Messages a connection carries before it is renewed (`maxMessages`, as nodemailer's pool names it). */
  maxMessagesPerConnection: number | undefined;
  /** The URL without its password, for logs and readiness answers. */
  display: string;
}

type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
const TLS_VERSIONS: readonly string[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

type Kind = 'boolean' | 'milliseconds' | 'count' | 'hostname' | 'address' | 'authMethod' | 'tlsVersion' | 'text';
const OPTIONS: Record<string, Kind> = {
  secure: 'boolean',
  requireTLS: 'boolean',
  ignoreTLS: 'boolean',
  opportunisticTLS: 'boolean',
  name: 'hostname',
  localAddress: 'address',
  authMethod: 'authMethod',
  connectionTimeout: 'milliseconds',
  greetingTimeout: 'milliseconds',
  socketTimeout: 'milliseconds',
  dnsTimeout: 'milliseconds',
  servername: 'hostname',
  maxMessages: 'count',
};
const TLS_OPTIONS: Record<string, Kind> = { rejectUnauthorized: 'boolean', servername: 'hostname', minVersion: 'tlsVersion', maxVersion: 'tlsVersion', ciphers: 'text' };
/** Options of nodemailer's own pool: our pool is sized and paced by our variables instead. */
const POOL_OPTIONS: Record<string, string> = {
  pool: 'sends always use a pool of SEND_CONCURRENCY connections',
  maxConnections: 'the pool has SEND_CONCURRENCY connections',
  rateLimit: 'the send rate is SEND_RATE_PER_SECOND',
  rateDelta: 'the send rate is SEND_RATE_PER_SECOND',
};

const MEANING: Record<Kind, string> = {
  boolean: 'must be true or false',
  milliseconds: 'must be a whole number of milliseconds between 1 and 3600000',
  count: 'must be a whole number between 1 and 1000000',
  hostname: 'must be a host name like mail.example.com',
  address: 'must be an IP address of this machine',
  authMethod: 'must be PLAIN, LOGIN or CRAM-MD5',
  tlsVersion: `must be one of ${TLS_VERSIONS.join(', ')}`,
  text: 'must not be empty',
};

/** A sentence naming the option (without "SMTP_URL"), or the typed value. */
function readValue(kind: Kind, raw: string): { value: string | number | boolean } | { problem: string } {
  const ok = (value: string | number | boolean) => ({ value });
  switch (kind) {
    case 'boolean':
      return raw === 'true' ? ok(true) : raw === 'false' ? ok(false) : { problem: MEANING[kind] };
    case 'milliseconds':
    case 'count': {
      const limit = kind === 'count' ? 1_000_000 : 3_600_000;
      return /^\d{1,7}$/.test(raw) && Number(raw) >= 1 && Number(raw) <= limit ? ok(Number(raw)) : { problem: MEANING[kind] };
    }
    case 'hostname':
      return /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(raw) ? ok(raw) : { problem: MEANING[kind] };
    case 'address':
      return /^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:]+)$/.test(raw) ? ok(raw) : { problem: MEANING[kind] };
    case 'authMethod':
      return ['PLAIN', 'LOGIN', 'CRAM-MD5'].includes(raw.toUpperCase()) ? ok(raw.toUpperCase()) : { problem: MEANING[kind] };
    case 'tlsVersion':
      return TLS_VERSIONS.includes(raw) ? ok(raw) : { problem: MEANING[kind] };
    case 'text':
      return raw.trim() ? ok(raw) : { problem: MEANING[kind] };
  }
}

export type SmtpUrlResult = { ok: true; settings: SmtpSettings } | { ok: false; problem: string };

/** Parses SMTP_URL; a problem is a sentence that follows the variable's name ("SMTP_URL <problem>"). */
export function parseSmtpUrl(text: string): SmtpUrlResult {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: 'must be a URL like smtp://host:25' };
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') return { ok: false, problem: 'must be a URL like smtp://host:25 or smtps://user:pass@host:465' };
  if (!url.hostname) return { ok: false, problem: 'must name a host, like smtp://host:25' };
  const secure = url.protocol === 'smtps:';
  const user = safeDecode(url.username);
  const pass = safeDecode(url.password);
  if (user === undefined || pass === undefined) return { ok: false, problem: 'has a user or password with a broken %-escape' };
  if (user && !pass) return { ok: false, problem: `names the user ${user} but no password (smtp://user:password@host:587)` };
  if (!user && pass) return { ok: false, problem: 'has a password but no user name' };
  const auth = user ? { user, pass } : undefined;

  const options: Record<string, string | number | boolean> = {};
  const tls: Record<string, string | number | boolean> = {};
  const seen = new Set<string>();
  for (const [key, raw] of url.searchParams) {
    if (seen.has(key)) return { ok: false, problem: `option ${key} is given twice` };
    seen.add(key);
    if (key === 'tls') {
      if (raw !== 'insecure') return { ok: false, problem: `option tls=${raw} is not known: tls=insecure skips certificate checks; tls.<name>=… sets one TLS option` };
      tls.rejectUnauthorized = false;
      continue;
    }
    const tlsKey = key.startsWith('tls.') ? key.slice(4) : undefined;
    const kind = tlsKey !== undefined ? TLS_OPTIONS[tlsKey] : OPTIONS[key];
    if (!kind) {
      if (POOL_OPTIONS[key]) return { ok: false, problem: `option ${key} is not read here: ${POOL_OPTIONS[key]}` };
      const known = tlsKey !== undefined ? Object.keys(TLS_OPTIONS).map((k) => `tls.${k}`) : [...Object.keys(OPTIONS), 'tls.*'];
      const hint = tlsKey === 'ca' ? ' (trust a private CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem)' : '';
      return { ok: false, problem: `option ${key} is not an SMTP option read here${hint}; known: ${known.join(', ')}` };
    }
    const read = readValue(kind, raw);
    if ('problem' in read) return { ok: false, problem: `option ${key}=${raw} ${read.problem}` };
    if (tlsKey !== undefined) tls[tlsKey] = read.value;
    else options[key] = read.value;
  }

  if (options.secure !== undefined && options.secure !== secure) {
    return { ok: false, problem: `option secure=${String(options.secure)} contradicts ${url.protocol}// (smtps:// is TLS from the first byte; smtp:// upgrades with STARTTLS)` };
  }
  if (options.requireTLS === true && options.ignoreTLS === true) return { ok: false, problem: 'options requireTLS=true and ignoreTLS=true contradict each other' };
  if (auth && !secure) {
    for (const clear of ['ignoreTLS', 'opportunisticTLS'] as const) {
      if (options[clear] === true) return { ok: false, problem: `option ${clear}=true would let the password go out without TLS; a URL with credentials always requires TLS` };
    }
    if (options.requireTLS === false) return { ok: false, problem: 'option requireTLS=false is refused: a URL with credentials always requires TLS (STARTTLS, or smtps://)' };
  }

  const display = new URL(url.href);
  if (display.password) display.password = '***';
  return {
    ok: true,
    settings: {
      connection: {
        host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: Number(url.port || (secure ? 465 : 25)),
        secure,
        // Credentials are never sent in clear: STARTTLS is required, and a relay without it is a fault.
        requireTLS: Boolean(options.requireTLS) || Boolean(auth && !secure),
        ignoreTLS: Boolean(options.ignoreTLS),
        opportunisticTLS: Boolean(options.opportunisticTLS),
        ...(pick(options, ['name', 'localAddress', 'authMethod', 'connectionTimeout', 'greetingTimeout', 'socketTimeout', 'dnsTimeout']) as Partial<SmtpConnectionSettings>),
        tls: { rejectUnauthorized: tls.rejectUnauthorized !== false, ...(pick(tls, ['servername', 'minVersion', 'maxVersion', 'ciphers']) as object), ...(options.servername ? { servername: String(options.servername) } : {}) },
      },
      auth,
      maxMessagesPerConnection: options.maxMessages as number | undefined,
      display: display.href,
    },
  };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function pick(from: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]]));
}
