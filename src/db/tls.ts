import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { ConfigError } from '../lib/config-error.js';
import { parseDatabaseTls } from '../lib/database-url.js';

/**
 * DATABASE_URL's libpq TLS parameters (parsed in tls-url.ts) as postgres.js's `ssl` option, with
 * the certificate files read: what every Postgres connection of ours (pool, migrations) uses.
 */
export type PostgresSsl = false | 'prefer' | tls.ConnectionOptions;

/**
 * postgres.js's connection URL and `ssl` option for DATABASE_URL. Reads the certificate files:
 * one that cannot be read, or a key that does not fit its certificate, is a configuration error
 * naming DATABASE_URL (the process stops before connecting).
 */
export function postgresConnection(databaseUrl: string): { url: string; ssl: PostgresSsl } {
  const parsed = parseDatabaseTls(databaseUrl);
  if ('problem' in parsed) throw new ConfigError('DATABASE_URL', parsed.problem);
  const { mode, rootCert, cert, key, password } = parsed.tls;
  if (mode === 'disable') return { url: parsed.url, ssl: false };
  const clientCert = { cert: cert && readPem('sslcert', cert), key: key && readPem('sslkey', key), passphrase: password };
  if (cert && !key) throw new ConfigError('DATABASE_URL', 'has sslcert without sslkey');
  if (key && !cert) throw new ConfigError('DATABASE_URL', 'has sslkey without sslcert');
  const ca = rootCert && rootCert !== 'system' ? readPem('sslrootcert', rootCert) : undefined;
  try {
    tls.createSecureContext({ ...clientCert, ca });
  } catch (error) {
    throw new ConfigError('DATABASE_URL', `has TLS files Node cannot use: ${(error as Error).message.split('\n')[0]}`);
  }
  const withClient = cert ? clientCert : {};
  // libpq: with a root certificate given, require verifies the chain as verify-ca does.
  const verify = mode === 'verify-full' ? 'full' : mode === 'verify-ca' || (mode === 'require' && ca) ? 'chain' : 'none';
  if (verify === 'none') {
    if ((mode === 'allow' || mode === 'prefer') && !cert) return { url: parsed.url, ssl: 'prefer' };
    return { url: parsed.url, ssl: { ...withClient, rejectUnauthorized: false } };
  }
  const host = firstHost(parsed.url);
  return {
    url: parsed.url,
    ssl: {
      ...withClient,
      ca,
      rejectUnauthorized: true,
      // The name to check and to send (SNI: managed Postgres proxies route by it); an IP is checked, never sent.
      ...(net.isIP(host) ? { host, servername: undefined } : { servername: host }),
      ...(verify === 'chain' ? { checkServerIdentity: () => undefined } : {}),
    },
  };
}

function readPem(parameter: 'sslrootcert' | 'sslcert' | 'sslkey', file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError('DATABASE_URL', `has ${parameter}=${file}, which cannot be read (${code})`);
  }
}

/** The first host of a (possibly multi-host) postgres URL: the one we connect to. */
function firstHost(url: string): string {
  const authority = url.slice(url.indexOf('://') + 3).split(/[/?]/)[0] ?? '';
  const hosts = decodeURIComponent(authority.slice(authority.lastIndexOf('@') + 1));
  const first = hosts.split(',')[0] ?? '';
  if (first.startsWith('[')) return first.slice(1, first.indexOf(']'));
  return first.split(':')[0] || 'localhost';
}
