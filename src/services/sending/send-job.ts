import { finalStatus } from '../../domain/smtp.js';
import type { DatabaseHandle } from '../../db/client.js';
import { parseFieldLine } from '../../db/queries/audience.js';
import { reportSettledCancel } from '../../db/queries/cancellation.js';
import { contentForDeployment, settleAndClaim, type ClaimedRow, type SettledRow } from '../../db/queries/sending.js';
import type { Failpoint } from '../../config.js';
import type { Logger } from '../../lib/logger.js';
import { sleep } from '../../lib/processes.js';
import { buildMessage, type CampaignContent } from '../../mail/message.js';
import type { Transport } from '../../mail/transport.js';
import type { SendJob } from '../../queue/jobs.js';
import type { RateLimiter } from '../../queue/rate-limiter.js';
import type { StopWatcher } from '../../queue/stop-signal.js';
import { closeFinishedWork } from './books.js';

/**
 * Sends one send job's range of recipients. Lanes = the transport's connections. Rows are claimed
 * (one conditional UPDATE, after taking rate tokens) only for lanes that are free, in the same
 * transaction that records the outcomes of the lanes that just finished. So the rows a worker
 * holds claimed are never more than its lanes: a crash leaves at most that many `unknown`.
 * Right before each hand-off a lane checks the stop set; a stopped deployment's claimed rows go
 * back to pending untouched.
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
  /** Each claimed recipient's end: its final outcome, or released (given back untouched). */
  onOutcome?: (outcome: 'sent' | 'bounced' | 'failed' | 'unknown' | 'released') => void;
  /** Hand-offs this job made after its deployment's stop had committed (learned only afterwards). */
  onLateHandOffs?: (count: number) => void;
  retry?: { attempts: number; backoffMs: number[] };
  /** Fault tests only (FAILPOINTS): die at a chosen moment of the send path. */
  failpoints?: Partial<Record<Failpoint, number>>;
}

/** Counts toward each failpoint and kills the process, as a crash would, when one is reached. */
function failpointTrigger(failpoints: Partial<Record<Failpoint, number>> = {}) {
  const seen = new Map<Failpoint, number>();
  return (name: Failpoint) => {
    const at = failpoints[name];
    if (at === undefined) return;
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    if (n === at) process.kill(process.pid, 'SIGKILL');
  };
}

export function createSendJobProcessor(deps: SendJobDeps) {
  const { sql } = deps.database;
  const lanes = deps.transport.connections;
  const retry = deps.retry ?? { attempts: 3, backoffMs: [500, 2000] };
  const failpoint = failpointTrigger(deps.failpoints);
  let claims = 0;

  return async function processSendJob(job: SendJob): Promise<SendJobResult> {
    const unwatch = deps.stops.watch(job.deploymentId);
    const stopped = () => deps.stops.isStopped(job.deploymentId) || Boolean(deps.shuttingDown?.());
    const row = await contentForDeployment(sql, job.deploymentId);
    if (!row) return { handedOver: 0, released: 0, finished: true };
    const content: CampaignContent = { fromAddress: row.from_address, subject: row.subject, bodyText: row.body_text, fieldNames: row.field_names };

    const settled: SettledRow[] = [];
    const handOffTimes: number[] = [];
    const toRelease: number[] = [];
    const inFlight = new Set<Promise<void>>();
    let handedOver = 0;
    let exhausted = false;
    let failures = 0;
    const voided: string[] = [];

    /**
     * Records finished lanes' outcomes and, unless `claim` is 0, claims rows for free lanes, in one
     * transaction. Outcomes already happened: if Postgres is unreachable they stay queued here
     * (their rows stay claimed, so nothing is sent twice) and are retried, for up to ten minutes.
     */
    const recordAndClaim = async (claim: number): Promise<ClaimedRow[] | undefined> => {
      const outcomes = settled.splice(0);
      const released = claim === 0 ? toRelease.splice(0) : [];
      const undo = voided.splice(0);
      const claimToken = `${deps.workerId}/${++claims}`;
      try {
        const claimed = await settleAndClaim(sql, {
          ...job,
          limit: claim,
          claimToken,
          leaseSeconds: deps.leaseSeconds,
          settled: outcomes,
          released,
          voided: undo,
        });
        failures = 0;
        return claimed;
      } catch (error) {
        settled.unshift(...outcomes);
        toRelease.unshift(...released);
        // The connection may have died after the commit: rows may be claimed that no lane holds.
        // Nothing was handed over, so the next statement puts them back to pending.
        voided.push(...undo);
        if (claim > 0) voided.push(claimToken);
        if (++failures >= 600) throw error;
        if (failures === 1 || failures % 30 === 0) deps.logger.warn({ err: error, failures }, 'could not record send outcomes yet; retrying');
        await sleep(1000);
        return undefined;
      }
    };

    /** One recipient on one lane: hand over, retry a transient failure with backoff, report. */
    const deliver = async (claimed: ClaimedRow) => {
      const message = buildMessage(content, { deploymentId: job.deploymentId, seq: claimed.seq, email: claimed.email, fields: parseFieldLine(claimed.fields) });
      for (let attempt = 1; ; attempt++) {
        if (stopped()) {
          toRelease.push(claimed.seq);
          deps.onOutcome?.('released');
          return;
        }
        failpoint('crash-before-handoff');
        deps.onHandOff?.(job.deploymentId);
        handOffTimes.push(Date.now());
        if (handOffTimes.length > 256) handOffTimes.shift();
        if (attempt === 1) handedOver++;
        const result = await deps.transport.send(message);
        if (result.outcome === 'sent') failpoint('crash-after-accept');
        if (result.outcome !== 'transient' || attempt >= retry.attempts) {
          const status = finalStatus(result.outcome);
          settled.push({ seq: claimed.seq, status, code: result.code ?? null, reply: result.reply ?? null, messageId: message.messageId });
          deps.onOutcome?.(status);
          return;
        }
        await sleep(retry.backoffMs[attempt - 1] ?? retry.backoffMs.at(-1) ?? 1000);
      }
    };

    /**
     * Rate tokens come from Redis. If they are slow to come (Redis slow, or down), the outcomes
     * already known are recorded meanwhile, so the books and `/campaign status` stay true.
     */
    const tokensRecordingMeanwhile = async (want: number) => {
      const taking = deps.rateLimiter.take(want, stopped);
      if (settled.length === 0 && toRelease.length === 0 && voided.length === 0) return taking;
      const quick = await Promise.race([taking, sleep(250).then(() => undefined)]);
      if (quick !== undefined) return quick;
      await recordAndClaim(0);
      return taking;
    };

    let released = 0;
    try {
      while (!exhausted && !stopped()) {
        // Claim for several lanes at once unless nothing is moving.
        const wanted = inFlight.size === 0 ? 1 : Math.ceil(lanes / 2);
        if (lanes - inFlight.size < wanted) {
          await Promise.race(inFlight);
          continue;
        }
        const tokens = await tokensRecordingMeanwhile(lanes - inFlight.size);
        if (tokens === 0) break;
        const claimed = await recordAndClaim(tokens);
        if (claimed === undefined) continue;
        if (claimed.length === 0) {
          exhausted = inFlight.size === 0;
          if (!exhausted) await Promise.race(inFlight);
          continue;
        }
        for (const next of claimed) {
          const lane: Promise<void> = deliver(next).finally(() => inFlight.delete(lane));
          inFlight.add(lane);
        }
      }
    } finally {
      await Promise.allSettled(inFlight);
      released = toRelease.length;
      while (settled.length > 0 || toRelease.length > 0 || voided.length > 0) await recordAndClaim(0);
      const stopAt = deps.stops.isStopped(job.deploymentId) ? deps.stops.stoppedAt(job.deploymentId) : undefined;
      if (stopAt !== undefined) {
        const late = handOffTimes.filter((t) => t > stopAt).length;
        if (late > 0) deps.onLateHandOffs?.(late);
      }
      unwatch();
      // A cancelled deployment whose last in-flight message just settled gets its final report.
      await reportSettledCancel(sql, job.deploymentId).catch((error) => deps.logger.warn({ err: error }, 'could not queue the settled report'));
    }
    if (exhausted) await sql.begin((tx) => closeFinishedWork(tx, { id: job.batchId, deploymentId: job.deploymentId }));
    return { handedOver, released, finished: exhausted };
  };
}
