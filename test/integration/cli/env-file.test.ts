import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, PROJECT_ROOT, removeTempDirs, runCli, STACK_LINE, stderrLines } from '../../support/cli.js';

/**
 * The CLI reads `.env` from its working directory itself (so `npm start`, `npm run cli` and the
 * bin all see it; Node 20's --env-file would need the file to exist); the environment wins over
 * it; `--dotenv FILE` reads another file and `--no-dotenv` none. And `--version` / `-V`.
 *
 * The URLs point at closed ports: a command that got past its configuration fails fast there.
 */
const UNREACHABLE = { DATABASE_URL: 'postgres://cg:cg@127.0.0.1:1/nothing', REDIS_URL: 'redis://127.0.0.1:1' };

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('cg-dotenv-');
  await writeFile(path.join(dir, '.env'), '# settings for this folder\nSEND_CONCURRENCY=0\nLOG_LEVEL="loud"\n');
  await writeFile(path.join(dir, 'other.env'), 'SEND_RATE_PER_SECOND=fast\n');
});
afterAll(removeTempDirs);

function oneLine(result: { code: number | null; stderr: string }) {
  expect(result.stderr).not.toMatch(STACK_LINE);
  const lines = stderrLines(result.stderr);
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0]!;
}

describe('.env', () => {
  it('is read from the working directory: its bad value stops the command with one line naming the variable', async () => {
    const result = await runCli(['status'], UNREACHABLE, { cwd: dir, timeoutMs: 50_000 });
    expect(result.code).toBe(2);
    expect(oneLine(result)).toBe('campaign-guard: configuration error: SEND_CONCURRENCY must be a whole number between 1 and 500');
  }, 60_000);

  it('loses to the environment: a variable set there is not replaced by the file', async () => {
    const result = await runCli(['status'], { ...UNREACHABLE, SEND_CONCURRENCY: '8' }, { cwd: dir, timeoutMs: 50_000 });
    expect(result.code).toBe(2);
    expect(oneLine(result)).toMatch(/^campaign-guard: configuration error: LOG_LEVEL must be one of /);
  }, 60_000);

  it('--dotenv FILE reads that file instead; --no-dotenv reads none', async () => {
    const other = await runCli(['--dotenv', 'other.env', 'status'], UNREACHABLE, { cwd: dir, timeoutMs: 50_000 });
    expect(other.code).toBe(2);
    expect(oneLine(other)).toMatch(/^campaign-guard: configuration error: SEND_RATE_PER_SECOND /);

    const none = await runCli(['status', '--no-dotenv'], UNREACHABLE, { cwd: dir, timeoutMs: 50_000 });
    expect(oneLine(none)).toMatch(/^campaign-guard: cannot reach Postgres \(DATABASE_URL\)/);
    expect(none.code).toBe(69);
  }, 120_000);

  it('--dotenv naming a file that cannot be read is a usage error naming it', async () => {
    const result = await runCli(['--dotenv', 'missing.env', 'status'], UNREACHABLE, { cwd: dir, timeoutMs: 50_000 });
    expect(result.code).toBe(2);
    expect(oneLine(result)).toBe(`campaign-guard: configuration error: --dotenv names ${path.join(dir, 'missing.env')}, which cannot be read (ENOENT)`);
  }, 60_000);
});

describe('--version', () => {
  const { version } = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };

  it.each([['--version'], ['-V']])('%s prints the package version and exits 0', async (flag) => {
    const result = await runCli([flag], UNREACHABLE, { timeoutMs: 50_000 });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${version}\n`);
    expect(stderrLines(result.stderr)).toEqual([]);
  }, 60_000);
});
