import { finalStatus } from '../../domain/smtp.js';
import type { DatabaseHandle } from '../../db/client.js';
import { parseFieldLine } from '../../db/field-line.js';
import { reportSettledCancel } from '../../db/queries/cancellation.js';
import { contentForDeployment, pendingInRange } from '../../db/queries/batch-start.js';
import type { ClaimedRow } from '../../db/queries/claims.js';
import type { Failpoint } from '../../domain/failpoints.js';
import type { Logger } from '../../lib/logger.js';
import { sleep } from '../../lib/processes.js';
import { buildMessage, type CampaignContent } from '../../domain/message.js';
import { successorOf, type SendJob } from '../../domain/send-jobs.js';
import { closeFinishedWork } from './completion.js';
import type { RateLimiter, SendQueue, StopWatcher, Transport } from '../ports.js';
import { createLaneSlots } from './lane-slots.js';
import { createOpenSendJobs } from './open-send-jobs.js';
import type { RelayHealth } from './relay-health.js';

/**
 * Sends one send job's range of recipients. Lanes = the transport's connections, shared by the
 * jobs a worker has open (lane-slots). A lane starts a message's SMTP transaction and, at the same
 * moment, asks for the row's claim; the claims and outcomes of all lanes of the worker's open jobs
 * are group-committed, whatever deployments they send (claim-flusher, open-send-jobs), and a message's end of data — the only
 * thing that makes the server accept it — waits for its claim to commit. So the Postgres round
 * trip overlaps SMTP's instead of adding to it, and still no message can be delivered unclaimed:
 * a claim refused (the deployment stopped: the claim is conditional on it, under its row lock)
 * withdraws the message before its end. A row is claimed only while its message is on the wire or
 * its outcome is about to be written, so the rows a worker holds claimed are never more than its
 * lanes: a crash leaves at most that many `unknown`. The lanes of the jobs of several deployments
 * take turns at the slots by the deployments' weights (lane-slots); once a job's recipients are all
 * taken by lanes it queues its batch's next job (SEND_JOBS_AHEAD), at the end of the queue, after
 * the other batches' jobs.
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
  /** Where a job queues its batch's next send job (without it, a job runs on its own: no successor). */
  sendQueue?: SendQueue;
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
  /** The deployment cannot be sent as it is (a message cannot be built): stop it and say why. */
  onDeploymentFault?: (deploymentId: string, cause: string) => Promise<void>;
  retry?: { attempts: number; backoffMs: number[] };
  /** The relay as a whole (shared by the worker's jobs): its faults are waited out, never booked on a recipient. */
  relay: RelayHealth;
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
  // Shared by the jobs this worker runs at once (see lane-slots).
  const slots = createLaneSlots(lanes);
  const retry = deps.retry ?? { attempts: 3, backoffMs: [500, 2000] };
  const failpoint = failpointTrigger(deps.failpoints);
  let claims = 0;
  const nextToken = () => `${deps.workerId}/${++claims}`;
  const openJobs = createOpenSendJobs({ sql, nextToken, leaseSeconds: deps.leaseSeconds, logger: deps.logger });

  return async function processSendJob(job: SendJob): Promise<SendJobResult> {
    const unwatch = deps.stops.watch(job.deploymentId);
    // A stop is final for this job (a resume queues new jobs): a job that saw its deployment paused
    // never carries on beside the resume's jobs, where both could be refused rows and end, leaving
    // the rest pending with no job. A stop this worker still holds from an earlier job is checked
    // against Postgres first: the resume that queued this job may not have reached it yet.
    if (deps.stops.isStopped(job.deploymentId)) await deps.stops.refresh();
    /** Set when a message cannot be built: the lanes stop, and the deployment is reported once they have. */
    let fault: string | undefined;
    let stop = false;
    const stopped = () => (stop ||= fault !== undefined || deps.stops.isStopped(job.deploymentId) || Boolean(deps.shuttingDown?.()));
    const row = await contentForDeployment(sql, job.deploymentId);
    if (!row) {
      unwatch();
      return { handedOver: 0, released: 0, finished: true };
    }
    const content: CampaignContent = { fromAddress: row.from_address, subject: row.subject, bodyText: row.body_text, fieldNames: row.field_names };
    const owner = { key: job.deploymentId, weight: row.send_weight };
    // The batch's next job, queued once this one's rows are all taken (or it ends with none left);
    // a failure to queue it fails this job, which the queue retries (and which queues it then).
    let successor: Promise<unknown> | undefined;
    const queueSuccessor = () => {
      const next = successorOf(job);
      successor ??= next.length > 0 && deps.sendQueue ? deps.sendQueue.addBulk(next) : Promise.resolve();
      successor.catch(() => undefined);
    };
    // The rows of the current round not yet taken by a lane.
    let queue: ClaimedRow[] = [];
    const { claims: flusher, lanes: jobLanes } = openJobs.join(job);
    const handOffTimes: number[] = [];
    let handedOver = 0;
    let released = 0;
    // Whether a lane was refused a row this round (set afresh as each round starts).
    let refusedRound: boolean;

    const handOff = () => {
      deps.onHandOff?.(job.deploymentId);
      handOffTimes.push(Date.now());
      if (handOffTimes.length > 256) handOffTimes.shift();
    };

    /**
     * One recipient on one lane. The claim is asked for as the SMTP envelope starts, and the
     * message's end of data waits for it: a claim that did not commit (a stop, a row someone else
     * holds, Postgres failing) withdraws the message, and nothing is delivered. A transient failure
     * is retried on the same claim, with backoff; a fault of the relay as a whole gives the row back
     * (pending) and reports it to the worker's relay health. Returns the row when it should be tried again.
     */
    const deliver = async (claimable: ClaimedRow): Promise<ClaimedRow | undefined> => {
      let message: ReturnType<typeof buildMessage>;
      try {
        message = buildMessage(content, { deploymentId: job.deploymentId, seq: claimable.seq, email: claimable.email, fields: parseFieldLine(claimable.fields) });
      } catch (error) {
        // Before its claim: the row stays pending, and nothing was handed over for it.
        fault ??= `the message to recipient ${claimable.seq} cannot be built (${String((error as Error)?.message ?? error).slice(0, 200)})`;
        return undefined;
      }
      failpoint('crash-before-handoff');
      let claim = flusher.claim(claimable.seq);
      for (let attempt = 1; ; attempt++) {
        const gate = claim.then((answer) => {
          if (answer !== 'claimed') return false;
          handOff();
          if (attempt === 1) handedOver++;
          return true;
        });
        const result = await deps.transport.send(message, gate);
        const answer = await claim;
        if (result.outcome === 'relay') deps.relay.fault({ cause: result.cause ?? `relay failed: ${result.reply ?? 'no reply'}`, code: result.code });
        else if (result.outcome === 'withdrawn') deps.relay.untried();
        else deps.relay.answered();
        if (answer === 'refused') {
          refusedRound = true;
          return undefined;
        }
        if (answer === 'unknown') return claimable;
        if (result.outcome === 'withdrawn') throw new Error('a claimed message was withdrawn');
        if (result.outcome === 'relay') {
          // Nothing reached the relay: the row is given back (pending, never failed) before it is
          // claimed again, once the relay answers; it was not handed over.
          if (attempt === 1) {
            handedOver--;
            handOffTimes.pop();
          }
          flusher.release(claimable.seq);
          await flusher.committed();
          return claimable;
        }
        if (result.outcome === 'sent') failpoint('crash-after-accept');
        if (result.outcome !== 'transient' || attempt >= retry.attempts) {
          const status = finalStatus(result.outcome);
          flusher.settle({ seq: claimable.seq, status, code: result.code ?? null, reply: result.reply ?? null, messageId: message.messageId });
          deps.onOutcome?.(status);
          return undefined;
        }
        jobLanes.asking(-1);
        await sleep(retry.backoffMs[attempt - 1] ?? retry.backoffMs.at(-1) ?? 1000).finally(() => jobLanes.asking(1));
        if (stopped()) {
          flusher.release(claimable.seq);
          released++;
          deps.onOutcome?.('released');
          return undefined;
        }
        claim = Promise.resolve('claimed');
      }
    };

    /** While the relay is failing, a lane waits its turn to probe it, not counted as asking for a claim. */
    const relayUsable = async () => {
      if (!deps.relay.current()) return true;
      jobLanes.asking(-1);
      try {
        return await deps.relay.usable(stopped);
      } finally {
        jobLanes.asking(1);
      }
    };

    let exhausted = false;
    try {
      // Rows of the range still pending are read (without a claim) and shared by the lanes; once
      // they are done the range is read again, in case rows came back (given back by another
      // worker that held them). A round in which rows were refused ends the job: the deployment
      // stopped, or another worker has the range (the stop set is refreshed to tell which).
      while (!stopped()) {
        queue = await pendingInRange(sql, job);
        jobLanes.rowsLeft(queue.length);
        if (queue.length === 0) {
          exhausted = true;
          break;
        }
        refusedRound = false;
        // A lane holds a slot from message to message, and gives it back after one when another
        // deployment waits for a slot (then asks again, in turn).
        const lane = async () => {
          let holding = false;
          try {
            while (queue.length > 0 && !stopped()) {
              if (!holding) {
                await slots.acquire(owner);
                holding = true;
                jobLanes.asking(1);
              }
              const next = queue.shift();
              if (!next) break;
              jobLanes.rowsLeft(queue.length);
              if (queue.length === 0) queueSuccessor();
              if ((await deps.rateLimiter.take(1, stopped)) === 0) return;
              // Right before the send: a lane let through to probe a failing relay always reports back.
              if (!(await relayUsable())) return;
              const again = await deliver(next);
              if (again) jobLanes.rowsLeft(queue.push(again));
              if (slots.wanted(owner)) {
                holding = false;
                jobLanes.asking(-1);
                slots.release(owner);
              }
            }
          } finally {
            if (holding) {
              jobLanes.asking(-1);
              slots.release(owner);
            }
          }
        };
        const ends = await Promise.allSettled(Array.from({ length: Math.min(lanes, queue.length) }, lane));
        const failure = ends.find((end): end is PromiseRejectedResult => end.status === 'rejected');
        if (failure) throw failure.reason;
        if (refusedRound) {
          await deps.stops.refresh().catch(() => undefined);
          break;
        }
      }
    } finally {
      await openJobs.leave(job, jobLanes);
      const stopAt = deps.stops.isStopped(job.deploymentId) ? deps.stops.stoppedAt(job.deploymentId) : undefined;
      if (stopAt !== undefined) {
        const late = handOffTimes.filter((t) => t > stopAt).length;
        if (late > 0) deps.onLateHandOffs?.(late);
      }
      unwatch();
      // A cancelled deployment whose last in-flight message just settled gets its final report.
      await reportSettledCancel(sql, job.deploymentId).catch((error) => deps.logger.warn({ err: error }, 'could not queue the settled report'));
    }
    if (fault !== undefined) {
      // Thrown on when it cannot be reported (Postgres away): the job is retried and finds it again.
      await deps.onDeploymentFault?.(job.deploymentId, fault);
      return { handedOver, released, finished: false };
    }
    if (exhausted) {
      await sql.begin((tx) => closeFinishedWork(tx, { id: job.batchId, deploymentId: job.deploymentId }));
      queueSuccessor();
      await successor;
    }
    return { handedOver, released, finished: exhausted };
  };
}
