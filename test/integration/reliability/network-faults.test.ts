import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { checkLedger } from '../../support/checker.js';
import { startServe, type ServeProcess } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { startFaultProxy, type FaultMode, type FaultProxy } from '../../support/fault-proxy.js';
import { deploymentRow, testConfig, waitFor, workerEnv } from '../../support/sending.js';

/**
 * A worker process whose every connection — Postgres, Redis, SMTP — goes through a fault proxy of
 * ours, while the network misbehaves in turn: SMTP swallowed (blackhole) and reset, Postgres slow,
 * reset, and down (connections reset and new ones refused), Redis reset, down and partitioned. The worker
 * keeps going without a restart, and the checker finds no duplicate, lost or phantom message. Only the two SMTP faults can cut a message off
 * after DATA began, so `unknown` ≤ 2 × lanes. (A Postgres reset can lose the answer of a claim
 * that committed: see test/integration/sending/ambiguous-commit.test.ts.)
 */
const LANES = 4;
let db: TestDatabase;
let sink: SmtpSink;
const proxies: FaultProxy[] = [];
let worker: ServeProcess | undefined;

const proxyFor = async (url: string) => {
  const parsed = new URL(url);
  const proxy = await startFaultProxy({ host: parsed.hostname, port: Number(parsed.port) });
  proxies.push(proxy);
  parsed.host = `127.0.0.1:${proxy.port}`;
  return { proxy, url: parsed.toString() };
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
});
afterAll(async () => {
  await worker?.stop('SIGKILL', 10_000);
  for (const proxy of proxies) await proxy.close();
  await sink.close();
  await db.drop();
});

describe('network faults between a worker and its dependencies', () => {
  it('SMTP blackholed and reset, Postgres slow, reset and down, Redis reset, down and blackholed: 0 duplicates, 0 lost, 0 phantom', async () => {
    const config = testConfig(db, { SEND_CONCURRENCY: String(LANES), SEND_RATE_PER_SECOND: '400', SEND_LEASE_SECONDS: '10' });
    const postgres = await proxyFor(db.url);
    const redis = await proxyFor(config.redisUrl!);
    const smtp = await proxyFor(sink.url);
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(3000, { domain: () => 'network.example' }) });
    const id = deploymentIds[0]!;
    worker = startServe(
      workerEnv(config, db, smtp.url, { DATABASE_URL: postgres.url, REDIS_URL: redis.url, SMTP_TIMEOUT_SECONDS: '1' }),
      ['--role', 'worker'],
    );
    let exited = false;
    void worker.exited.then(() => (exited = true));

    const faults: [FaultProxy, FaultMode[], number, { latencyMs?: number }?][] = [
      [smtp.proxy, ['blackhole'], 2000],
      [postgres.proxy, ['latency'], 2000, { latencyMs: 40 }],
      [postgres.proxy, ['reset'], 0],
      [postgres.proxy, ['reset', 'refuse'], 2000],
      [redis.proxy, ['reset'], 0],
      [redis.proxy, ['reset', 'refuse'], 2000],
      [smtp.proxy, ['reset'], 0],
      [redis.proxy, ['blackhole'], 2000],
    ];
    let atLeast = 200;
    /** What the worker logged and where the ledger stands: to tell why a wait ran out. */
    const diagnose = async (error: unknown) => {
      const ledger = await db.sql`select status, count(*)::int as n from deliveries where deployment_id = ${id} group by status`;
      throw new Error(`${String(error)}; ledger ${JSON.stringify(ledger)}; worker log:\n${worker!.output().stderr.slice(-6000)}${worker!.output().stdout.slice(-6000)}`);
    };
    for (const [proxy, modes, holdMs, options] of faults) {
      // Each fault strikes while messages are moving: wait for progress since the last one.
      await waitFor(async () => sink.count() >= atLeast, { timeoutMs: 30_000, what: `progress before ${modes.join('+')} (${sink.count()} received)` }).catch(diagnose);
      for (const mode of modes) proxy.set(mode, options);
      await sleep(holdMs);
      proxy.set('pass');
      atLeast = sink.count() + 200;
    }

    await waitFor(async () => (await deploymentRow(db, id)).status === 'completed', { timeoutMs: 60_000, what: 'the send to finish' }).catch(diagnose);
    expect(exited).toBe(false);
    const check = await checkLedger(db, id, sink);
    expect(check).toMatchObject({ total: 3000, duplicates: 0, lost: 0, phantom: 0, booksMatch: true });
    expect(check.unknown).toBeLessThanOrEqual(2 * LANES);
    expect((check.byStatus.sent ?? 0) + check.unknown + (check.byStatus.failed ?? 0)).toBe(3000);
  }, 150_000);
});
