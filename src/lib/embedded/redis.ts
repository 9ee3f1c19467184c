import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { canConnect, execFileAsync, freePort, isAlive, processName, sleep } from '../processes.js';
import type { Logger } from '../logger.js';
import { redisInstallLine } from './redis-install.js';

/**
 * A `redis-server` from PATH run as a daemon under `dir` (AOF on, noeviction: BullMQ must never
 * lose a job to eviction). Like the embedded Postgres, a second process attaches to a running one.
 */
export interface EmbeddedRedis {
  url: string;
  owned: boolean;
  stop(): Promise<void>;
}

export class RedisServerMissing extends Error {
  constructor(installLine: string | undefined) {
    super(
      installLine
        ? `redis-server was not found on PATH: install it with \`${installLine}\`, or set REDIS_URL`
        : 'redis-server was not found on PATH: install Redis (its redis-server) with your package manager, or set REDIS_URL',
    );
    this.name = 'RedisServerMissing';
  }
}

export interface EmbeddedRedisOptions {
  dir: string;
  logger?: Logger;
  ephemeral?: boolean;
  /** A fixed port (a restart in fault tests keeps its address); a free one otherwise. */
  port?: number;
}

/** Resolved through PATH by the child-process lookup itself. */
async function findRedisServer(): Promise<string> {
  try {
    await execFileAsync('redis-server', ['--version']);
    return 'redis-server';
  } catch {
    throw new RedisServerMissing(await redisInstallLine());
  }
}

async function running(dir: string): Promise<{ pid: number; port: number } | undefined> {
  try {
    const pid = Number((await readFile(path.join(dir, 'redis.pid'), 'utf8')).trim());
    const port = Number((await readFile(path.join(dir, 'redis.port'), 'utf8')).trim());
    if (!isAlive(pid) || !(await processName(pid))?.startsWith('redis-server')) return undefined;
    return (await canConnect(port)) ? { pid, port } : undefined;
  } catch {
    return undefined;
  }
}

function command(port: number, line: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let reply = '';
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`redis did not answer ${line}`));
    });
    socket.on('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.endsWith('\r\n')) {
        socket.end();
        resolve(reply.trim());
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(reply.trim()));
  });
}

export async function startEmbeddedRedis(options: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const dir = path.resolve(options.dir);
  const live = await running(dir);
  if (live) {
    options.logger?.info({ dir, port: live.port }, 'using the embedded Redis already running');
    return { url: `redis://127.0.0.1:${live.port}`, owned: false, stop: async () => {} };
  }
  const binary = await findRedisServer();
  await mkdir(dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const conf = [
    `port ${port}`,
    'bind 127.0.0.1',
    `dir ${dir}`,
    'daemonize yes',
    `pidfile ${path.join(dir, 'redis.pid')}`,
    `logfile ${path.join(dir, 'redis.log')}`,
    'maxmemory-policy noeviction',
    ...(options.ephemeral ? ['appendonly no', 'save ""'] : ['appendonly yes', 'appendfsync everysec']),
  ].join('\n');
  await writeFile(path.join(dir, 'redis.conf'), `${conf}\n`);
  await writeFile(path.join(dir, 'redis.port'), `${port}\n`);
  await execFileAsync(binary, [path.join(dir, 'redis.conf')]);

  const deadline = Date.now() + 30_000;
  while ((await command(port, 'PING').catch(() => '')) !== '+PONG') {
    if (Date.now() > deadline) throw new Error(`embedded Redis did not start (see ${path.join(dir, 'redis.log')})`);
    await sleep(50);
  }
  options.logger?.info({ dir, port }, 'embedded Redis started');
  return {
    url: `redis://127.0.0.1:${port}`,
    owned: true,
    stop: async () => {
      const pid = await readFile(path.join(dir, 'redis.pid'), 'utf8').then(Number, () => undefined);
      await command(port, options.ephemeral ? 'SHUTDOWN NOSAVE' : 'SHUTDOWN').catch(() => undefined);
      const stopDeadline = Date.now() + 10_000;
      while (pid && isAlive(pid) && Date.now() < stopDeadline) await sleep(25);
    },
  };
}

/** The URL of an embedded Redis already running under `dir`, without starting one. */
export async function runningEmbeddedRedis(dir: string): Promise<string | undefined> {
  const live = await running(path.resolve(dir));
  return live ? `redis://127.0.0.1:${live.port}` : undefined;
}
