import { existsSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../src/lib/processes.js';
import {
  embeddedDaemons,
  killEmbeddedDaemons,
  makeTempDir,
  removeTempDirs,
  runCli,
  startServe,
  STACK_LINE,
  stderrLines,
  waitForHttp,
  writeTempCsv,
  type ServeProcess,
} from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * `serve` on a bare machine (DESIGN §6): nothing configured, Postgres and Redis embedded under
 * DATA_DIR, a one-shot command attaching to them, a graceful SIGTERM, and data that outlives a
 * restart. No daemon may be left behind, even when a test fails half-way.
 */
const dataDirs: string[] = [];
const servers: ServeProcess[] = [];

async function freshDataDir(): Promise<string> {
  const dir = await makeTempDir('cg-serve-');
  dataDirs.push(dir);
  return dir;
}

function serve(env: Record<string, string>): ServeProcess {
  const server = startServe(env);
  servers.push(server);
  return server;
}

afterAll(async () => {
  for (const server of servers) await server.stop('SIGTERM', 30_000);
  for (const dir of dataDirs) await killEmbeddedDaemons(dir);
  await removeTempDirs();
}, 120_000);

describe('serve with nothing configured', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let campaignId: string;

  beforeAll(async () => {
    dataDir = await freshDataDir();
    env = { DATA_DIR: dataDir, PORT: String(await freePort()) };
  });

  it('starts embedded Postgres and Redis, answers /healthz and /readyz, and lets a command attach', async () => {
    const server = serve(env);
    const base = `http://127.0.0.1:${env.PORT}`;
    try {
      await waitForHttp(`${base}/healthz`, { timeoutMs: 60_000, isAlive: server.running });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${server.output().stderr}`, { cause: error });
    }
    const ready = await waitForHttp(`${base}/readyz`, { timeoutMs: 15_000, isAlive: server.running });
    expect(JSON.parse(ready.body)).toMatchObject({ checks: { postgres: { ok: true }, redis: { ok: true } } });
    expect(server.output().stderr).toContain('initialising the embedded Postgres');

    const daemons = await embeddedDaemons(dataDir);
    expect(daemons.map((d) => d.name).sort()).toEqual(['postgres', 'redis-server']);

    const file = await writeTempCsv(['email,first_name', 'a@example.com,A', 'b@example.com,B']);
    const created = await runCli(['campaign', 'create', '--name', 'Served', '--recipients', file, '--now', '--json'], { DATA_DIR: dataDir });
    expect(created.code, created.stderr).toBe(0);
    campaignId = (JSON.parse(created.stdout) as { campaignId: string }).campaignId;
    expect(campaignId).toMatch(/^cmp_/);

    // The command used the running servers and left them running: same pids, still ready.
    expect(await embeddedDaemons(dataDir)).toEqual(daemons);
    expect(server.running()).toBe(true);
    expect((await waitForHttp(`${base}/readyz`, { timeoutMs: 5_000 })).status).toBe(200);
  }, 120_000);

  it('exits 0 within 30 s on SIGTERM and stops the daemons it started', async () => {
    const server = servers.at(-1)!;
    expect(server.running()).toBe(true);
    const stopped = await server.stop('SIGTERM', 30_000);
    expect(stopped.timedOut, server.output().stderr).toBe(false);
    expect(stopped.code, server.output().stderr).toBe(0);
    expect(await embeddedDaemons(dataDir)).toEqual([]);
  }, 60_000);

  it('starts again on the same DATA_DIR without re-initialising, and the data is still there', async () => {
    expect(campaignId).toBeDefined();
    const server = serve(env);
    await waitForHttp(`http://127.0.0.1:${env.PORT}/healthz`, { timeoutMs: 60_000, isAlive: server.running });
    await waitForHttp(`http://127.0.0.1:${env.PORT}/readyz`, { timeoutMs: 15_000, isAlive: server.running });
    const log = server.output().stderr;
    expect(log).not.toContain('initialising the embedded Postgres');
    expect(log).toContain('embedded Postgres started');

    const status = await runCli(['status', campaignId, '--json'], { DATA_DIR: dataDir });
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as { campaignId: string; counts: { total: number } };
    expect(report.campaignId).toBe(campaignId);
    expect(report.counts.total).toBe(2);

    const stopped = await server.stop('SIGTERM', 30_000);
    expect(stopped.code, server.output().stderr).toBe(0);
    expect(await embeddedDaemons(dataDir)).toEqual([]);
  }, 120_000);

  it('a one-shot command with nothing running starts the embedded Postgres and stops it again', async () => {
    const status = await runCli(['status', campaignId, '--json'], { DATA_DIR: dataDir });
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { campaignId: string }).campaignId).toBe(campaignId);
    expect(await embeddedDaemons(dataDir)).toEqual([]);
  }, 120_000);
});

describe('serve without redis-server on PATH', () => {
  let db: TestDatabase;
  let onlyNode: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    // The embedded Redis tries `<entry>/redis-server --version` for each PATH entry.
    onlyNode = await makeTempDir('cg-path-');
    await symlink(process.execPath, path.join(onlyNode, 'node'));
  });
  afterAll(async () => {
    await db.drop();
  });

  it('exits non-zero with one line saying how to install it or set REDIS_URL', async () => {
    const dataDir = await freshDataDir();
    const result = await runCli(['serve'], { PATH: onlyNode, DATABASE_URL: db.url, DATA_DIR: dataDir, PORT: String(await freePort()) }, { timeoutMs: 60_000 });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBe(null);
    expect(result.stderr).not.toMatch(STACK_LINE);
    const errors = stderrLines(result.stderr).filter((line) => line.startsWith('campaign-guard:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/redis-server/);
    expect(errors[0]).toMatch(/install|REDIS_URL/);
    expect(errors[0]).toContain('REDIS_URL');
    expect(await embeddedDaemons(dataDir)).toEqual([]);
  }, 60_000);

  it.runIf(existsSync('/usr/bin/apt-get'))('names the install line of the package manager on PATH (apt-get here)', async () => {
    const bin = await makeTempDir('cg-path-');
    await symlink(process.execPath, path.join(bin, 'node'));
    await symlink('/usr/bin/apt-get', path.join(bin, 'apt-get'));
    const result = await runCli(['serve'], { PATH: bin, DATABASE_URL: db.url, DATA_DIR: await freshDataDir(), PORT: String(await freePort()) }, { timeoutMs: 60_000 });
    const errors = stderrLines(result.stderr).filter((line) => line.startsWith('campaign-guard:'));
    expect(errors).toEqual(['campaign-guard: redis-server was not found on PATH: install it with `apt-get update && apt-get install -y redis-server`, or set REDIS_URL']);
    expect(result.code).toBe(2);
  }, 60_000);

  it('also stops the embedded Postgres it had started before finding Redis missing', async () => {
    const dataDir = await freshDataDir();
    // `id` is what the embedded Postgres uses to find the `postgres` user when run as root.
    const bin = await makeTempDir('cg-path-');
    await symlink(process.execPath, path.join(bin, 'node'));
    await symlink('/usr/bin/id', path.join(bin, 'id'));
    const result = await runCli(['serve'], { PATH: bin, DATA_DIR: dataDir, PORT: String(await freePort()) }, { timeoutMs: 90_000 });
    expect(result.code).not.toBe(0);
    expect(result.stderr).not.toMatch(STACK_LINE);
    const errors = stderrLines(result.stderr).filter((line) => line.startsWith('campaign-guard:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('REDIS_URL');
    expect(await embeddedDaemons(dataDir)).toEqual([]);
  }, 120_000);
});
