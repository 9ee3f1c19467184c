import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, rm, rmdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../../src/lib/embedded/postgres.js';
import { audienceCsv } from '../../support/builders.js';
import { runCli, stderrLines } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * O5 (issue 19, finding 10): `campaign create` while the disk is full says so in one line and
 * exits (69), with Postgres running (the import's COPY is refused) or not (it cannot start); it
 * never hangs. The full disk is real: DATA_DIR on a small tmpfs, filled up (mounting needs root).
 */
const run = promisify(execFile);
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('O5: a COPY that Postgres refuses after the client ended it', () => {
  it('O5: fails with Postgres\'s error instead of waiting for good (what hung campaign create on a full disk)', async () => {
    const sql = db.sql;
    await sql`create table copy_refused (n int)`;
    let outcome: unknown;
    await sql
      .begin(async (tx) => {
        const copy = await tx`copy copy_refused (n) from stdin`.writable();
        const finished = once(copy, 'finish');
        // Written and ended at once: Postgres reads the bad row after the end has been sent.
        copy.write('1\nnot a number\n');
        copy.end();
        outcome = await Promise.race([finished.then(() => 'finished', (e: Error) => e.message), new Promise((r) => setTimeout(() => r('still waiting after 10 s'), 10_000))]);
      })
      .catch(() => undefined);
    expect(outcome).toMatch(/invalid input syntax for type integer/);
    expect(await sql`select 1 as alive`).toEqual([{ alive: 1 }]);
  }, 30_000);
});

const root = process.getuid?.() === 0;

describe.skipIf(!root)('O5: campaign create while DATA_DIR is full (a 100 MB tmpfs)', () => {
  let mount: string;
  let csv: string;
  beforeAll(async () => {
    mount = await mkdtemp(path.join(os.tmpdir(), 'cg-disk-full-'));
    await run('mount', ['-t', 'tmpfs', '-o', 'size=100m', 'tmpfs', mount]);
    csv = path.join(os.tmpdir(), `cg-disk-full-${process.pid}.csv`);
    await writeFile(csv, audienceCsv(20_000));
  });
  afterAll(async () => {
    await run('umount', ['-l', mount]).catch(() => undefined);
    await rmdir(mount).catch(() => undefined);
    await rm(csv, { force: true });
  });

  /** Writes a file until the disk refuses (ENOSPC); returns its path. */
  async function fillDisk(): Promise<string> {
    const filler = path.join(mount, 'filler');
    const handle = await open(filler, 'w');
    const block = Buffer.alloc(1024 * 1024);
    try {
      for (;;) await handle.write(block);
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      await handle.close().catch(() => undefined);
    }
    return filler;
  }

  const create = async () => {
    const started = Date.now();
    const result = await runCli(['campaign', 'create', '--name', 'Full disk', '--recipients', csv, '--now'], { DATA_DIR: mount }, { timeoutMs: 90_000 });
    return { ...result, ms: Date.now() - started };
  };

  it('O5: with Postgres running (the import is refused) and with Postgres stopped (it cannot start): one line naming the full disk, exit 69, no hang', async () => {
    // Postgres running under DATA_DIR (as `serve` would keep it), with the schema in place.
    const pg = await startEmbeddedPostgres({ dir: path.join(mount, 'postgres'), database: 'campaign_guard' });
    try {
      expect((await runCli(['migrate'], { DATA_DIR: mount }, { timeoutMs: 90_000 })).code).toBe(0);
      const filler = await fillDisk();
      const refused = await create();
      expect(refused.code).toBe(69);
      expect(stderrLines(refused.stderr)).toHaveLength(1);
      expect(refused.stderr).toMatch(/^campaign-guard: the disk is full \(.*No space left on device\)/);
      expect(refused.ms).toBeLessThan(60_000);
      await rm(filler);
    } finally {
      await pg.stop();
    }

    // Postgres stopped: it cannot even write its lock file.
    const filler = await fillDisk();
    const cannotStart = await create();
    expect(cannotStart.code).toBe(69);
    expect(stderrLines(cannotStart.stderr)).toHaveLength(1);
    expect(cannotStart.stderr).toMatch(/^campaign-guard: the disk is full \(.*No space left on device\)/);
    await rm(filler);
  }, 240_000);
});
