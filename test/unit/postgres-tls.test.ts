import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/lib/config-error.js';
import { postgresConnection } from '../../src/db/tls.js';

/**
 * DATABASE_URL's libpq TLS parameters as postgres.js options (the certificate files themselves
 * are exercised against a real TLS Postgres in test/integration/cli/postgres-tls.test.ts).
 */
const base = 'postgres://u:p@db.example.com:5432/app';

describe('postgresConnection', () => {
  it('prefers TLS by default, as libpq does, and disables it on request', () => {
    expect(postgresConnection(base)).toEqual({ url: base, ssl: 'prefer' });
    expect(postgresConnection(`${base}?sslmode=allow`).ssl).toBe('prefer');
    expect(postgresConnection(`${base}?sslmode=disable`)).toEqual({ url: base, ssl: false });
  });

  it('takes the TLS parameters out of the URL and keeps the others for the server', () => {
    const { url } = postgresConnection(`${base}?application_name=x&sslmode=require&options=-c%20search_path%3Dapp`);
    expect(url).toBe(`${base}?application_name=x&options=-c+search_path%3Dapp`);
  });

  it('require encrypts without checking the certificate', () => {
    expect(postgresConnection(`${base}?sslmode=require`).ssl).toEqual({ rejectUnauthorized: false });
  });

  it('verify-full checks the chain and the name, sending the name as SNI; an IP is checked, never sent', () => {
    expect(postgresConnection(`${base}?sslmode=verify-full`).ssl).toEqual({ ca: undefined, rejectUnauthorized: true, servername: 'db.example.com' });
    expect(postgresConnection('postgres://u:p@10.0.0.5/app?sslmode=verify-full').ssl).toEqual({ ca: undefined, rejectUnauthorized: true, host: '10.0.0.5', servername: undefined });
  });

  it('verify-ca checks the chain, not the name', () => {
    const ssl = postgresConnection(`${base}?sslmode=verify-ca`).ssl as { rejectUnauthorized: boolean; checkServerIdentity: () => unknown };
    expect(ssl.rejectUnauthorized).toBe(true);
    expect(ssl.checkServerIdentity()).toBeUndefined();
  });

  it('sslrootcert=system means verify-full against the system CAs, and refuses a weaker mode', () => {
    expect(postgresConnection(`${base}?sslrootcert=system`).ssl).toMatchObject({ rejectUnauthorized: true, servername: 'db.example.com', ca: undefined });
    expect(() => postgresConnection(`${base}?sslrootcert=system&sslmode=require`)).toThrow(ConfigError);
  });

  it.each([
    ['sslmode=verify', /sslmode=verify; it must be one of/],
    ['sslcrl=/etc/crl.pem', /sslcrl, which is not supported/],
    ['sslmode=verify-full&sslrootcert=/nonexistent/ca.pem', /sslrootcert=\/nonexistent\/ca.pem, which cannot be read \(ENOENT\)/],
    ['sslcert=/nonexistent/c.pem&sslkey=/nonexistent/k.pem', /sslcert=\/nonexistent\/c.pem, which cannot be read/],
  ])('%s is a configuration error naming DATABASE_URL', (query, problem) => {
    const error = (() => {
      try {
        postgresConnection(`${base}?${query}`);
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.variable).toBe('DATABASE_URL');
    expect(error.problem).toMatch(problem);
    expect(error.message).not.toContain(':p@');
  });
});
