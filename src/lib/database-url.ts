/**
 * DATABASE_URL's TLS parameters, read as libpq reads them (`sslmode`, `sslrootcert`, `sslcert`,
 * `sslkey`, `sslpassword`), turned into postgres.js's `ssl` option. postgres.js itself reads only
 * `sslmode` (verifying against Node's CAs alone) and sends every other query parameter to the
 * server as a setting, which refuses `sslrootcert` and the like; so they are taken out of the URL
 * here. Differences from libpq, on purpose: with no `sslrootcert`, verify-ca/verify-full trust
 * Node's CAs (plus NODE_EXTRA_CA_CERTS) instead of `~/.postgresql/root.crt`; `allow` tries TLS
 * first, as `prefer` does; `allow`/`prefer` with a client certificate no longer fall back to
 * plain text.
 */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

const FILE_PARAMETERS = ['sslrootcert', 'sslcert', 'sslkey'] as const;
const TLS_PARAMETERS = new Set<string>(['sslmode', 'sslpassword', ...FILE_PARAMETERS]);

export interface DatabaseTls {
  mode: SslMode;
  /** A file path, or `system` for Node's CAs (libpq then insists on verify-full). */
  rootCert?: string;
  cert?: string;
  key?: string;
  password?: string;
}

/** A problem with DATABASE_URL (never quoting it: it holds the password), or what parseDatabaseTls makes of it. */
export function parseDatabaseUrl(url: string): ReturnType<typeof parseDatabaseTls> {
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    // not a URL
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') return { problem: 'must be a URL like postgres://user:pass@host:5432/db' };
  return parseDatabaseTls(url);
}

/** The URL without its TLS parameters, and those parameters; a problem (for DATABASE_URL) if they are wrong. */
export function parseDatabaseTls(url: string): { url: string; tls: DatabaseTls } | { problem: string } {
  const queryStart = url.indexOf('?');
  if (queryStart < 0) return { url, tls: { mode: 'prefer' } };
  const params = new URLSearchParams(url.slice(queryStart + 1));
  const read = (name: string) => params.get(name) ?? undefined;
  for (const name of params.keys()) {
    if (name.startsWith('ssl') && !TLS_PARAMETERS.has(name) && name !== 'sslnegotiation') {
      return { problem: `has ${name}, which is not supported (supported: ${[...TLS_PARAMETERS].join(', ')})` };
    }
  }
  const mode = read('sslmode');
  if (mode !== undefined && !(SSL_MODES as readonly string[]).includes(mode)) {
    return { problem: `has sslmode=${mode.slice(0, 20)}; it must be one of ${SSL_MODES.join(', ')}` };
  }
  const rootCert = read('sslrootcert');
  let effective = (mode ?? 'prefer') as SslMode;
  if (rootCert === 'system') {
    if (mode !== undefined && mode !== 'verify-full') return { problem: `has sslrootcert=system with sslmode=${mode}; libpq allows it only with verify-full` };
    effective = 'verify-full';
  }
  const tls: DatabaseTls = { mode: effective, rootCert, cert: read('sslcert'), key: read('sslkey'), password: read('sslpassword') };
  for (const name of TLS_PARAMETERS) params.delete(name);
  const rest = params.toString();
  return { url: url.slice(0, queryStart) + (rest ? `?${rest}` : ''), tls };
}

