import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import type { Logger } from '../src/lib/logger.js';
import { createQueues } from '../src/queue/queues.js';
import { createRedis } from '../src/queue/redis.js';
import { startSendingRuntime } from '../src/app/sending-runtime.js';
import { runMigrations } from '../src/db/migrate.js';
import { startEmbeddedPostgres } from '../src/lib/embedded/postgres.js';
import { startEmbeddedRedis } from '../src/lib/embedded/redis.js';

/** Benchmarks run against their own throwaway Postgres (or DATABASE_URL) and write results here. */
// Compiled benches run from .bench-build/bench; results go next to the sources either way.
export const RESULTS_DIR = path.resolve(import.meta.dirname, import.meta.dirname.includes('.bench-build') ? '../../bench/results' : 'results');

export async function benchPostgres() {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-bench-'));
  await chmod(dir, 0o755);
  // Default durability (fsync, synchronous commit), as production runs.
  const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), database: 'bench' });
  return {
    url: pg.url,
    stop: async () => {
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  return [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;
}

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export async function saveResults(name: string, json: unknown, markdown: string) {
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(path.join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(path.join(RESULTS_DIR, `${name}.md`), `${markdown}\n`);
}

/** Postgres (migrated, default durability), a throwaway Redis, and a database handle. */
export async function benchStack() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'cg-bench-'));
  await chmod(tmp, 0o755);
  const pg = await benchPostgres();
  const redis = await startEmbeddedRedis({ dir: path.join(tmp, 'redis'), ephemeral: true });
  await runMigrations(pg.url);
  const database = await openDatabase(pg.url, { max: 10 });
  return {
    pgUrl: pg.url,
    redisUrl: redis.url,
    database,
    async stop() {
      await database.close();
      await redis.stop();
      await pg.stop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * CPU time (ms) used so far by this process, all Postgres processes, all Redis processes, every
 * other node process (our sink's) and Postfix's smtp-sink, from /proc: where a benchmark's CPU goes, on Linux.
 */
export function cpuByProcess(): { self: number; postgres: number; redis: number; otherNode: number; smtpSink: number } {
  const totals = { self: 0, postgres: 0, redis: 0, otherNode: 0, smtpSink: 0 };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // the process ended
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
    if (Number(entry) === process.pid) totals.self += ms;
    else if (name.startsWith('postgres')) totals.postgres += ms;
    else if (name.startsWith('redis')) totals.redis += ms;
    else if (name === 'node') totals.otherNode += ms;
    else if (name === 'smtp-sink') totals.smtpSink += ms;
  }
  return totals;
}

/** A sending worker in this process (its queues as a web process would have them); stop() takes all of it down. */
export async function startBenchWorker(stack: Awaited<ReturnType<typeof benchStack>>, config: Config, logger: Logger, onHandOff: (deploymentId: string) => void) {
  const queueConnection = createRedis(stack.redisUrl, 'bench-queues', logger, { blocking: true });
  const queues = createQueues(queueConnection, config.redisPrefix);
  const runtime = await startSendingRuntime({ config, database: stack.database, redisUrl: stack.redisUrl, queues, logger, onHandOff });
  return {
    async stop() {
      await runtime.stop();
      await queues.close();
      queueConnection.disconnect();
    },
  };
}
