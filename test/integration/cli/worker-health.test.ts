import net from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../../src/lib/embedded/redis.js';
import { canConnect, freePort } from '../../../src/lib/processes.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { runCli, startServe, stderrLines, waitForHttp, type ServeProcess } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, testConfig, waitFor, workerEnv } from '../../support/sending.js';

/**
 * Every process answers (DESIGN §6): `serve --role worker` serves /healthz, /readyz (Postgres,
 * Redis and, advisory, the SMTP relay, each by name) and /metrics (its own hand-offs) on HEALTH_PORT, and leaves PORT to a web
 * process on the same machine. A HEALTH_PORT already taken is one line naming it.
 */
let db: TestDatabase;
let sink: SmtpSink;
let redis: EmbeddedRedis;
let redisDir: string;
let worker: ServeProcess | undefined;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
  // A Redis of this test's own, so it can freeze it.
  redisDir = await mkdtemp(path.join(os.tmpdir(), 'cg-worker-health-'));
  redis = await startEmbeddedRedis({ dir: redisDir, ephemeral: true });
});
afterAll(async () => {
  await worker?.stop();
  await redis.stop();
  await rm(redisDir, { recursive: true, force: true });
  await sink.close();
  await db.drop();
}, 60_000);

const metricValue = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('serve --role worker', () => {
  it('answers /healthz, /readyz and /metrics on HEALTH_PORT, not on PORT', async () => {
    const config = testConfig(db, { REDIS_URL: redis.url });
    const [healthPort, port] = [await freePort(), await freePort()];
    worker = startServe(workerEnv(config, db, sink.url, { HEALTH_PORT: String(healthPort), PORT: String(port), HOST: '127.0.0.1' }), ['--role', 'worker']);
    base = `http://127.0.0.1:${healthPort}`;
    try {
      await waitForHttp(`${base}/healthz`, { timeoutMs: 60_000, isAlive: worker.running });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${worker.output().stderr}`, { cause: error });
    }
    const ready = await waitForHttp(`${base}/readyz`, { timeoutMs: 10_000 });
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready', checks: { postgres: { ok: true }, redis: { ok: true }, relay: { ok: true, advisory: true } } });
    expect(await canConnect(port)).toBe(false);

    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(40) });
    await waitFor(async () => (await deploymentRow(db, deploymentIds[0]!)).status === 'completed', { what: 'the send', timeoutMs: 30_000 });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metricValue(metrics, 'campaign_guard_handoffs_total{outcome="sent"}')).toBe(40);
    expect(metricValue(metrics, 'campaign_guard_alerts_open{metric="bounce",severity="critical"}')).toBe(0);
  }, 90_000);

  it('reports Redis not ready (503, by name) while Redis does not answer, and ready again after', async () => {
    const pid = Number((await readFile(path.join(redisDir, 'redis.pid'), 'utf8')).trim());
    process.kill(pid, 'SIGSTOP');
    try {
      const response = await fetch(`${base}/readyz`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
      expect(body.checks.postgres).toEqual({ ok: true });
      expect(body.checks.redis?.ok).toBe(false);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect((await waitForHttp(`${base}/readyz`, { timeoutMs: 15_000 })).status).toBe(200);
  }, 60_000);

  it('a HEALTH_PORT already in use: one line naming HEALTH_PORT, exit 2', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = (taken.address() as net.AddressInfo).port;
    try {
      const config = testConfig(db, { REDIS_URL: redis.url });
      const result = await runCli(['serve', '--role', 'worker'], workerEnv(config, db, sink.url, { HEALTH_PORT: String(takenPort), HOST: '127.0.0.1' }));
      expect(result.code).toBe(2);
      expect(stderrLines(result.stderr).filter((line) => line.startsWith('campaign-guard:'))).toEqual([
        `campaign-guard: configuration error: HEALTH_PORT (${takenPort}) is already in use on 127.0.0.1: set HEALTH_PORT to a free port`,
      ]);
    } finally {
      taken.close();
    }
  }, 90_000);
});
