import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { execFileAsync, freePort, sleep } from '../../src/lib/processes.js';

/**
 * Real Redis as operators run it, from `redis-server` on PATH, each server a child of the test on
 * a free port in a temp dir: a Sentinel set (one master, one replica, three sentinels) and a
 * 3-node Cluster (`redis-cli --cluster create`). `stop()` kills only the processes started here.
 */
interface Server {
  port: number;
  process: ChildProcess;
}

async function startServer(dir: string, name: string, lines: string[], args: string[] = []): Promise<Server> {
  const port = await freePort();
  const home = path.join(dir, name);
  await mkdir(home, { recursive: true });
  const conf = path.join(home, 'redis.conf');
  await writeFile(conf, [`port ${port}`, 'bind 127.0.0.1', `dir ${home}`, 'save ""', 'appendonly no', 'maxmemory-policy noeviction', ...lines].join('\n') + '\n');
  const child = spawn('redis-server', [conf, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const server = { port, process: child };
  await waitUntil(async () => (await ask(port, ['PING']).catch(() => '')) === 'PONG', `${name} on port ${port} to answer`);
  return server;
}

async function ask(port: number, command: string[]): Promise<unknown> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(command[0]!, ...command.slice(1));
  } finally {
    client.disconnect();
  }
}

async function waitUntil(probe: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function stopAll(servers: Server[], dir: string) {
  return async () => {
    for (const server of servers) {
      if (server.process.exitCode === null && server.process.signalCode === null) {
        const exited = new Promise((resolve) => server.process.once('exit', resolve));
        server.process.kill('SIGKILL');
        await exited;
      }
    }
    await rm(dir, { recursive: true, force: true });
  };
}

export interface SentinelSet {
  /** REDIS_URL naming the three sentinels and the master name. */
  url: string;
  masterPort(): Promise<number>;
  /** Kills the current master (SIGKILL) and resolves once the sentinels have promoted the replica. */
  killMaster(): Promise<{ from: number; to: number }>;
  stop(): Promise<void>;
}

const MASTER = 'cgmaster';

export async function startSentinelSet(): Promise<SentinelSet> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-sentinel-'));
  const servers: Server[] = [];
  try {
    const master = await startServer(dir, 'master', []);
    servers.push(master);
    const replica = await startServer(dir, 'replica', [`replicaof 127.0.0.1 ${master.port}`]);
    servers.push(replica);
    await waitUntil(async () => String(await ask(replica.port, ['INFO', 'replication'])).includes('master_link_status:up'), 'the replica to sync');
    const sentinels: Server[] = [];
    for (const n of [1, 2, 3]) {
      const sentinel = await startServer(
        dir,
        `sentinel-${n}`,
        [
          `sentinel monitor ${MASTER} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${MASTER} 1000`,
          `sentinel failover-timeout ${MASTER} 5000`,
          `sentinel parallel-syncs ${MASTER} 1`,
        ],
        ['--sentinel'],
      );
      servers.push(sentinel);
      sentinels.push(sentinel);
    }
    // A failover needs each sentinel to know the replica and the other sentinels.
    for (const sentinel of sentinels) {
      await waitUntil(async () => {
        const replicas = (await ask(sentinel.port, ['SENTINEL', 'REPLICAS', MASTER])) as unknown[];
        const peers = (await ask(sentinel.port, ['SENTINEL', 'SENTINELS', MASTER])) as unknown[];
        return replicas.length === 1 && peers.length === 2;
      }, `sentinel on ${sentinel.port} to see the replica and its peers`);
    }
    const masterPort = async () => Number(((await ask(sentinels[0]!.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER])) as string[])[1]);
    return {
      url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${MASTER}`,
      masterPort,
      async killMaster() {
        const from = await masterPort();
        const victim = servers.find((s) => s.port === from)!;
        victim.process.kill('SIGKILL');
        let to = from;
        await waitUntil(async () => {
          to = await masterPort();
          return to !== from && String(await ask(to, ['INFO', 'replication'])).includes('role:master');
        }, 'the sentinels to promote the replica', 30_000);
        return { from, to };
      },
      stop: stopAll(servers, dir),
    };
  } catch (error) {
    await stopAll(servers, dir)();
    throw error;
  }
}

export interface RedisCluster {
  /** REDIS_URL naming every node. */
  url: string;
  ports: number[];
  stop(): Promise<void>;
}

export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-cluster-'));
  const servers: Server[] = [];
  try {
    for (let n = 1; n <= size; n++) {
      servers.push(await startServer(dir, `node-${n}`, ['cluster-enabled yes', 'cluster-config-file nodes.conf', 'cluster-node-timeout 2000']));
    }
    const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
    await execFileAsync('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    for (const server of servers) {
      await waitUntil(async () => String(await ask(server.port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok'), `node ${server.port} to join the cluster`);
    }
    return { url: `redis+cluster://${nodes.join(',')}`, ports: servers.map((s) => s.port), stop: stopAll(servers, dir) };
  } catch (error) {
    await stopAll(servers, dir)();
    throw error;
  }
}
