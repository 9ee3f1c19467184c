import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/db/client.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../../src/lib/embedded/postgres.js';
import { execFileAsync } from '../../../src/lib/processes.js';
import { makeTempDir, removeTempDirs, runCli, STACK_LINE, stderrLines } from '../../support/cli.js';

/**
 * DATABASE_URL with libpq's TLS parameters against a real Postgres serving TLS (`ssl=on`) with a
 * certificate from a CA this test makes with openssl: verify-full with `sslrootcert` connects over
 * TLS, as psql would; a CA that did not sign the server's certificate, a wrong password and a
 * missing file each stop a command with one line naming DATABASE_URL and the cause.
 */
let dir: string;
let pg: EmbeddedPostgres;
let caFile: string;
let otherCaFile: string;

async function openssl(...args: string[]) {
  await execFileAsync('openssl', args, { cwd: dir });
}

async function makeCa(name: string): Promise<string> {
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
  return path.join(dir, `${name}.crt`);
}

/** `url` with its host and query replaced. */
function withTls(url: string, host: string, query: string): string {
  const parsed = new URL(url);
  parsed.hostname = host;
  return `${parsed.toString()}?${query}`;
}

beforeAll(async () => {
  dir = await makeTempDir('cg-pg-tls-');
  caFile = await makeCa('test-ca');
  otherCaFile = await makeCa('other-ca');
  await writeFile(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  await openssl('x509', '-req', '-in', 'server.csr', '-CA', 'test-ca.crt', '-CAkey', 'test-ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.crt');
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=cg-client', '-keyout', 'client.key', '-out', 'client.csr');
  await openssl('x509', '-req', '-in', 'client.csr', '-CA', 'test-ca.crt', '-CAkey', 'test-ca.key', '-CAcreateserial', '-days', '2', '-out', 'client.crt');
  pg = await startEmbeddedPostgres({
    dir: path.join(dir, 'pg'),
    database: 'tls_app',
    ephemeral: true,
    tls: {
      cert: await readFile(path.join(dir, 'server.crt'), 'utf8'),
      key: await readFile(path.join(dir, 'server.key'), 'utf8'),
      ca: await readFile(caFile, 'utf8'),
    },
  });
}, 120_000);

afterAll(async () => {
  await pg?.stop();
  await removeTempDirs();
}, 60_000);

describe('DATABASE_URL over TLS', () => {
  it('sslmode=verify-full with sslrootcert connects over TLS', async () => {
    const database = await openDatabase(withTls(pg.url, 'localhost', `sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`), { max: 1 });
    try {
      const [row] = await database.sql<{ ssl: boolean }[]>`select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
      expect(row?.ssl).toBe(true);
    } finally {
      await database.close();
    }
  });

  it('sslcert and sslkey present a client certificate', async () => {
    const query = `sslmode=verify-full&sslrootcert=${caFile}&sslcert=${path.join(dir, 'client.crt')}&sslkey=${path.join(dir, 'client.key')}`;
    const database = await openDatabase(withTls(pg.url, 'localhost', query), { max: 1 });
    try {
      const [row] = await database.sql<{ client_dn: string | null }[]>`select client_dn from pg_stat_ssl where pid = pg_backend_pid()`;
      expect(row?.client_dn).toBe('/CN=cg-client');
    } finally {
      await database.close();
    }
  });

  it('sslmode=require encrypts without verifying, prefer (the default) takes TLS when offered, disable does not', async () => {
    for (const [query, encrypted] of [['sslmode=require', true], ['', true], ['sslmode=disable', false]] as const) {
      const database = await openDatabase(withTls(pg.url, '127.0.0.1', query), { max: 1 });
      try {
        const [row] = await database.sql<{ ssl: boolean }[]>`select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
        expect(row?.ssl, query || 'no sslmode').toBe(encrypted);
      } finally {
        await database.close();
      }
    }
  });

  it('migrate with verify-full and sslrootcert applies the migrations', async () => {
    const result = await runCli(['migrate'], { DATABASE_URL: withTls(pg.url, 'localhost', `sslmode=verify-full&sslrootcert=${caFile}`) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('migrations applied');
  }, 60_000);

  it('a CA that did not sign the server certificate: one line naming DATABASE_URL and the cause, exit 69', async () => {
    const result = await runCli(['migrate'], { DATABASE_URL: withTls(pg.url, 'localhost', `sslmode=verify-full&sslrootcert=${otherCaFile}`) });
    expect(result.code).toBe(69);
    const lines = stderrLines(result.stderr);
    expect(lines).toHaveLength(1);
    // Which of the two OpenSSL says depends on whether the server sends its CA along (it does once it has ssl_ca_file).
    expect(lines[0]).toMatch(/^campaign-guard: TLS with Postgres \(DATABASE_URL\) failed: (unable to verify the first certificate|self-signed certificate in certificate chain)$/);
    expect(result.stderr).not.toMatch(STACK_LINE);
  }, 60_000);

  it('a name the certificate does not cover fails verify-full (exit 69) but passes verify-ca', async () => {
    // The certificate names localhost only, not 127.0.0.1.
    const refused = await runCli(['migrate'], { DATABASE_URL: withTls(pg.url, '127.0.0.1', `sslmode=verify-full&sslrootcert=${caFile}`) });
    expect(refused.code).toBe(69);
    expect(stderrLines(refused.stderr)).toEqual([expect.stringMatching(/^campaign-guard: TLS with Postgres \(DATABASE_URL\) failed: .*127\.0\.0\.1/)]);
    const database = await openDatabase(withTls(pg.url, '127.0.0.1', `sslmode=verify-ca&sslrootcert=${caFile}`), { max: 1 });
    await database.close();
  }, 60_000);

  it('a wrong password over TLS: one line saying the login was refused, exit 69, no password echoed', async () => {
    const url = new URL(withTls(pg.url, 'localhost', `sslmode=verify-full&sslrootcert=${caFile}`));
    url.password = 'not-the-password';
    const result = await runCli(['migrate'], { DATABASE_URL: url.toString() });
    expect(result.code).toBe(69);
    const lines = stderrLines(result.stderr);
    expect(lines).toEqual([expect.stringMatching(/^campaign-guard: Postgres \(DATABASE_URL\) refused the login: password authentication failed/)]);
    expect(result.stderr).not.toContain('not-the-password');
  }, 60_000);

  it('an sslrootcert that cannot be read is a configuration error naming DATABASE_URL (exit 2)', async () => {
    const result = await runCli(['migrate'], { DATABASE_URL: withTls(pg.url, 'localhost', 'sslmode=verify-full&sslrootcert=/nonexistent/ca.pem') });
    expect(result.code).toBe(2);
    expect(stderrLines(result.stderr)).toEqual(['campaign-guard: configuration error: DATABASE_URL has sslrootcert=/nonexistent/ca.pem, which cannot be read (ENOENT)']);
  }, 60_000);
});
