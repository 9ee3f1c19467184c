import { Cluster } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { checkLedger } from '../../support/checker.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../../support/database.js';
import { startRedisCluster, startSentinelSet, type RedisCluster, type SentinelSet } from '../../support/redis-topologies.js';
import { freePort } from '../../../src/lib/processes.js';
import { createRedis, whenReady } from '../../../src/queue/redis.js';
import { createStopAnnouncer, createStopWatcher } from '../../../src/queue/stop-signal.js';
import { runCli, startServe, stderrLines, waitForHttp } from '../../support/cli.js';
import { deploymentRow, startWorker, testConfig, testLogger, waitFor, workerEnv } from '../../support/sending.js';

/**
 * REDIS_URL naming a Sentinel set and a Cluster, against real ones (DESIGN §6): a send through a
 * Sentinel set survives its master dying mid-send (the sentinels promote the replica), and a
 * worker process on a 3-node Cluster is ready and sends with its hash-tagged prefix. Every
 * recipient exactly once. Neither answering stops the start in one line.
 */
let db: TestDatabase;
let sink: SmtpSink;
const stops: (() => Promise<void>)[] = [];

beforeEach(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
});
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  await sink.close();
  await db.drop();
});

describe('Redis Sentinel', () => {
  it('the master dies during a send: the replica is promoted and the send finishes, every recipient exactly once', async () => {
    const sentinels: SentinelSet = await startSentinelSet();
    stops.push(sentinels.stop);
    const config = testConfig(db, { SMTP_URL: sink.url, REDIS_URL: sentinels.url, SEND_RATE_PER_SECOND: '300' });
    const worker = await startWorker(db, config);
    stops.push(worker.stop);

    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(2000) });
    const id = deploymentIds[0]!;
    await waitFor(async () => (await deploymentRow(db, id)).sent_count >= 300, { what: '300 sent' });
    const failover = await sentinels.killMaster();
    expect(failover.to).not.toBe(failover.from);
    const sentAtFailover = (await deploymentRow(db, id)).sent_count as number;
    expect(sentAtFailover).toBeLessThan(2000);

    await waitFor(async () => (await deploymentRow(db, id)).status === 'completed', { what: 'completion after the failover', timeoutMs: 60_000 });
    const check = await checkLedger(db, id, sink);
    expect(check).toMatchObject({ total: 2000, duplicates: 0, lost: 0, phantom: 0, booksMatch: true });
    expect(check.byStatus.sent).toBe(2000);
  }, 120_000);
});

describe('REDIS_URL naming a Sentinel set or a Cluster nobody answers for', () => {
  it('stops the start with one line naming REDIS_URL, exit 69', async () => {
    const [sentinelPort, nodePort] = [await freePort(), await freePort()];
    const config = testConfig(db);
    const start = (env: Record<string, string>) => runCli(['serve', '--role', 'worker'], workerEnv(config, db, sink.url, env));
    const [sentinel, cluster] = await Promise.all([
      start({ REDIS_URL: `redis+sentinel://127.0.0.1:${sentinelPort}/mymaster` }),
      start({ REDIS_URL: `redis+cluster://127.0.0.1:${nodePort}`, REDIS_PREFIX: '{cg}' }),
    ]);
    // The one line, besides the structured log's warning about the connection.
    const problems = (stderr: string) => stderrLines(stderr).filter((line) => !line.startsWith('{'));
    expect(sentinel.code, sentinel.stderr).toBe(69);
    expect(problems(sentinel.stderr)).toEqual([expect.stringMatching(/^campaign-guard: cannot reach Redis \(REDIS_URL\): no sentinel named a reachable master/)]);
    expect(cluster.code, cluster.stderr).toBe(69);
    expect(problems(cluster.stderr)).toEqual([expect.stringMatching(/^campaign-guard: cannot reach Redis \(REDIS_URL\): no Cluster node answered/)]);
  }, 90_000);
});

describe('Redis Cluster', () => {
  let cluster: RedisCluster;
  beforeEach(async () => {
    cluster = await startRedisCluster();
    stops.push(cluster.stop);
  });

  it('a worker process on a 3-node Cluster is ready and sends every recipient exactly once, its queue keys in one slot, stops heard through pub/sub', async () => {
    const prefix = `{${uniquePrefix('cg')}}`;
    const config = testConfig(db, { REDIS_URL: cluster.url, REDIS_PREFIX: prefix, SEND_RATE_PER_SECOND: '1000' });
    expect(config.redisPrefix).toBe(prefix);
    const healthPort = await freePort();
    const worker = startServe(workerEnv(config, db, sink.url, { HEALTH_PORT: String(healthPort), HOST: '127.0.0.1' }), ['--role', 'worker']);
    stops.push(async () => void (await worker.stop()));
    const ready = await waitForHttp(`http://127.0.0.1:${healthPort}/readyz`, { timeoutMs: 60_000, isAlive: worker.running }).catch((error: Error) => {
      throw new Error(`${error.message}\n${worker.output().stderr}`);
    });
    expect(JSON.parse(ready.body)).toMatchObject({ checks: { postgres: { ok: true }, redis: { ok: true } } });

    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(1500) });
    const id = deploymentIds[0]!;
    await waitFor(async () => (await deploymentRow(db, id)).status === 'completed', { what: 'completion', timeoutMs: 60_000 });
    const check = await checkLedger(db, id, sink);
    expect(check).toMatchObject({ total: 1500, duplicates: 0, lost: 0, phantom: 0, booksMatch: true });
    expect(check.byStatus.sent).toBe(1500);

    // Every key we and BullMQ wrote lives on one node, in the prefix's slot.
    const admin = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    try {
      await new Promise((resolve) => admin.once('ready', resolve));
      expect(admin.nodes('master')).toHaveLength(3);
      const keysPerNode = await Promise.all(admin.nodes('master').map((node) => node.keys(`${prefix}*`)));
      const keys = keysPerNode.flat();
      expect(keys.length).toBeGreaterThan(0);
      expect(keysPerNode.filter((k) => k.length > 0)).toHaveLength(1);
      const slots = new Set(await Promise.all(keys.map((key) => admin.cluster('KEYSLOT', key))));
      expect(slots.size).toBe(1);
    } finally {
      admin.disconnect();
    }

    // A stop published through one node reaches a subscriber wherever it is connected (the
    // Postgres poll is off here: only pub/sub can tell it).
    const publisher = createRedis(cluster.url, 'test-announce', testLogger);
    const subscriber = createRedis(cluster.url, 'test-stops', testLogger, { blocking: true });
    const watcher = createStopWatcher({ subscriber, prefix, sql: db.sql, logger: testLogger, pollMs: 600_000 });
    try {
      await Promise.all([whenReady(publisher), whenReady(subscriber)]);
      const announcer = createStopAnnouncer({ redis: publisher, prefix, logger: testLogger });
      // A worker hears stops for the deployments its jobs are sending.
      watcher.watch('dep_cluster_stop');
      // Announced again until the subscription is in place; then heard at once.
      await waitFor(
        async () => {
          await announcer.announce(['dep_cluster_stop'], 'paused');
          return watcher.isStopped('dep_cluster_stop');
        },
        { timeoutMs: 5000, everyMs: 200, what: 'the stop through pub/sub' },
      );
    } finally {
      await watcher.close();
      publisher.disconnect();
      subscriber.disconnect();
    }
  }, 120_000);
});
