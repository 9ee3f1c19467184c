import { finalStatus } from '../../domain/smtp.js';
import type { DatabaseHandle, SqlExecutor } from '../../db/client.js';
import { claimRows, contentForDeployment, lockDeployment, releaseRows, settleRows, type ClaimedRow, type SettledRow } from '../../db/queries/sending.js';
import type { Logger } from '../../lib/logger.js';
import { sleep } from '../../lib/processes.js';
import { buildMessage, type CampaignContent } from '../../mail/message.js';
import type { Transport } from '../../mail/transport.js';
import type { SendJob } from '../../queue/jobs.js';
import type { RateLimiter } from '../../queue/rate-limiter.js';
import type { StopWatcher } from '../../queue/stop-signal.js';
import { closeFinishedWork } from './books.js';

/**
 * Sends one send job's range of recipients. Lanes = the transport's connections: a row is
 * claimed (one conditional UPDATE for the free lanes, after taking rate tokens) only when a lane
 * can hand it over at once, so a claimed row is a row on the wire and a crash leaves at most one
 * `unknown` per lane. Right before each hand-off the lane checks the stop set; a stopped
 * deployment's claimed rows go back to pending untouched. Outcomes are written back in sub-batches
 * together with the books.
 */
export interface SendJobResult {
  handedOver: number;
  released: number;
  finished: boolean;
}

export interface SendJobDeps {
  database: DatabaseHandle;
  transport: Transport;
  stops: StopWatcher;
  rateLimiter: RateLimiter;
  workerId: string;
  leaseSeconds: number;
  logger: Logger;
  /** Extra stop condition, e.g. the worker shutting down. */
  shuttingDown?: () => boolean;
  /** Called right before each hand-off (metrics, benchmarks). */
  onHandOff?: (deploymentId: string) => void;
  retry?: { attempts: number; backoffMs: number[] };
}

/**
 * Outcomes already happened and must be recorded: through a Postgres outage, keep trying (the
 * rows stay claimed meanwhile, so nothing is sent twice), for up to ten minutes.
 */
async function persistently(write: () => Promise<unknown>, logger: Logger): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return;
    } catch (error) {
      if (attempt >= 600) throw error;
      if (attempt === 1 || attempt % 30 === 0) logger.warn({ err: error, attempt }, 'could not record send outcomes yet; retrying');
      await sleep(1000);
    }
  }
}

const FLUSH_ROWS = 64;
const FLUSH_MS = 50;

export function createSendJobProcessor(deps: SendJobDeps) {
  const { sql } = deps.database;
  const lanes = deps.transport.connections;
  const retry = deps.retry ?? { attempts: 3, backoffMs: [500, 2000] };

  /** Runs `work` in a transaction that holds the deployment's lock (see lockDeployment). */
  const lockedFor = <T>(deploymentId: string, work: (tx: SqlExecutor) => Promise<T>) =>
    sql.begin(async (tx) => {
      await lockDeployment(tx, deploymentId);
      return work(tx);
    }) as Promise<T>;

  return async function processSendJob(job: SendJob): Promise<SendJobResult> {
    const locked = <T>(work: (tx: SqlExecutor) => Promise<T>) => lockedFor(job.deploymentId, work);
    const unwatch = deps.stops.watch(job.deploymentId);
    const stopped = () => deps.stops.isStopped(job.deploymentId) || Boolean(deps.shuttingDown?.());
    const row = await contentForDeployment(sql, job.deploymentId);
    if (!row) return { handedOver: 0, released: 0, finished: true };
    const content: CampaignContent = { fromAddress: row.from_address, subject: row.subject, bodyText: row.body_text, fieldNames: row.field_names };

    const settled: SettledRow[] = [];
    const toRelease: number[] = [];
    const inFlight = new Set<Promise<void>>();
    let handedOver = 0;
    let exhausted = false;
    let flushing: Promise<void> = Promise.resolve();
    let lastFlush = Date.now();

    const flush = (force: boolean) => {
      if (settled.length === 0 || (!force && settled.length < FLUSH_ROWS && Date.now() - lastFlush < FLUSH_MS)) return flushing;
      const rows = settled.splice(0);
      lastFlush = Date.now();
      flushing = flushing.then(() => persistently(() => locked((tx) => settleRows(tx, job.deploymentId, rows)), deps.logger));
      return flushing;
    };

    /** One recipient on one lane: hand over, retry a transient failure with backoff, report. */
    const deliver = async (claimed: ClaimedRow) => {
      const message = buildMessage(content, { deploymentId: job.deploymentId, seq: claimed.seq, email: claimed.email, fields: claimed.fields });
      for (let attempt = 1; ; attempt++) {
        if (stopped()) {
          toRelease.push(claimed.seq);
          return;
        }
        deps.onHandOff?.(job.deploymentId);
        if (attempt === 1) handedOver++;
        const result = await deps.transport.send(message);
        if (result.outcome !== 'transient' || attempt >= retry.attempts) {
          settled.push({ seq: claimed.seq, status: finalStatus(result.outcome), code: result.code ?? null, reply: result.reply ?? null, messageId: message.messageId });
          return;
        }
        await sleep(retry.backoffMs[attempt - 1] ?? retry.backoffMs.at(-1) ?? 1000);
      }
    };

    try {
      while (!exhausted && !stopped()) {
        const free = lanes - inFlight.size;
        // Claim for several lanes at once unless nothing is moving.
        if (free === 0 || (inFlight.size > 0 && free < Math.ceil(lanes / 2))) {
          await Promise.race(inFlight);
          await flush(false);
          continue;
        }
        const tokens = await deps.rateLimiter.take(free, stopped);
        if (tokens === 0) break;
        const claimed = await locked((tx) => claimRows(tx, { ...job, limit: tokens, workerId: deps.workerId, leaseSeconds: deps.leaseSeconds }));
        if (claimed.length === 0) {
          exhausted = true;
          break;
        }
        for (const next of claimed) {
          const lane: Promise<void> = deliver(next).finally(() => inFlight.delete(lane));
          inFlight.add(lane);
        }
        await flush(false);
      }
      await Promise.all(inFlight);
    } finally {
      await Promise.allSettled(inFlight);
      await flush(true);
      if (toRelease.length > 0) await persistently(() => locked((tx) => releaseRows(tx, job.deploymentId, toRelease)), deps.logger);
      unwatch();
    }
    if (exhausted) await sql.begin((tx) => closeFinishedWork(tx, { id: job.batchId, deploymentId: job.deploymentId }));
    return { handedOver, released: toRelease.length, finished: exhausted };
  };
}
