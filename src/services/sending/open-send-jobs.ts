import type { SqlExecutor } from '../../db/client.js';
import type { ClaimRange, SettledRow } from '../../db/queries/claims.js';
import type { Logger } from '../../lib/logger.js';
import { createClaimFlusher, type ClaimAnswer } from './claim-flusher.js';

/**
 * The send jobs a worker has open, and their one claim flusher: every job's lanes, whatever
 * deployment or batch they send, gather their claims and outcomes into the same statements. The
 * flusher checks a claim against its batch's range, the union of the batch's open jobs' ranges
 * (two jobs of a batch are open at once as the current one runs out). A statement waits for the
 * lanes that will ask soon: those holding a slot in jobs with rows left to take, counted as lanes
 * and rows change, so no claim costs a look at every open job.
 */
export interface JobLanes {
  /** A lane of the job will ask for claims (+1: it holds a slot) or will not for now (-1: gave it back, sleeps, waits for the relay). */
  asking(change: 1 | -1): void;
  /** Rows of the job's current round that no lane has taken yet: only whether any are left matters. */
  rowsLeft(count: number): void;
}

/** The flusher as one job uses it: its claims are checked against its batch. */
export interface JobClaims {
  claim(seq: number): Promise<ClaimAnswer>;
  settle(row: SettledRow): void;
  release(seq: number): void;
  /** Resolves once everything recorded so far is committed. */
  committed(): Promise<void>;
}

export interface OpenSendJobs {
  join(job: ClaimRange): { claims: JobClaims; lanes: JobLanes };
  /** The job is done: resolves once its outcomes are committed. */
  leave(job: ClaimRange, lanes: JobLanes): Promise<void>;
}

export function createOpenSendJobs(deps: { sql: SqlExecutor; nextToken: () => string; leaseSeconds: number; logger: Logger; gatherMs?: number; lingerMs?: number }): OpenSendJobs {
  // Lanes that will ask soon, over all open jobs: each job adds its asking lanes while it has rows left.
  let expected = 0;
  const newFlusher = () => createClaimFlusher({ ...deps, lanesAsking: () => expected });
  let flusher = newFlusher();
  let open = 0;
  const ranges = new Map<string, { range: ClaimRange; jobs: number }>();
  const counted = new WeakMap<JobLanes, () => number>();

  return {
    join(job) {
      // After ten minutes without Postgres the jobs open then fail (the queue retries them); once
      // they have all left, the jobs that come next start afresh, as the queue's retries expect.
      if (open === 0 && flusher.failed()) flusher = newFlusher();
      open++;
      let entry = ranges.get(job.batchId);
      if (!entry) {
        entry = { range: { deploymentId: job.deploymentId, batchId: job.batchId, fromSeq: job.fromSeq, toSeq: job.toSeq }, jobs: 0 };
        ranges.set(job.batchId, entry);
      }
      entry.jobs++;
      entry.range.fromSeq = Math.min(entry.range.fromSeq, job.fromSeq);
      entry.range.toSeq = Math.max(entry.range.toSeq, job.toSeq);
      const { range } = entry;
      let asking = 0;
      let hasRows = false;
      const contribution = () => (hasRows ? asking : 0);
      const lanes: JobLanes = {
        asking(change) {
          expected -= contribution();
          asking += change;
          expected += contribution();
        },
        rowsLeft(count) {
          expected -= contribution();
          hasRows = count > 0;
          expected += contribution();
        },
      };
      counted.set(lanes, contribution);
      const joined = flusher;
      const claims: JobClaims = {
        claim: (seq) => joined.claim(range, seq),
        settle: (row) => joined.settle(range.deploymentId, row),
        release: (seq) => joined.release(range.deploymentId, seq),
        committed: () => joined.committed(),
      };
      return { claims, lanes };
    },
    leave(job, lanes) {
      expected -= counted.get(lanes)?.() ?? 0;
      counted.delete(lanes);
      const entry = ranges.get(job.batchId);
      if (entry && --entry.jobs === 0) ranges.delete(job.batchId);
      open--;
      return flusher.committed();
    },
  };
}
