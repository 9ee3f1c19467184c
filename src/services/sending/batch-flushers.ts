import type { SqlExecutor } from '../../db/client.js';
import type { Logger } from '../../lib/logger.js';
import { createClaimFlusher, type ClaimFlusher } from './claim-flusher.js';

/**
 * The claim flushers of a worker's open send jobs, one per batch: two jobs of a batch open at
 * once (the next one starting as the current one runs out) share one flusher, so their lanes'
 * claims gather into the same statements instead of two flushers' small statements taking turns
 * at the deployment's lock.
 */
export interface JobLanes {
  /** Lanes of the job that will ask for a claim soon: running, and not sleeping before a retry. */
  asking: number;
  /** Rows of the job's current round that no lane has taken yet. */
  rowsLeft: number;
}

export interface BatchFlushers {
  /** The flusher for the job's batch, shared with the batch's other open jobs. */
  join(job: { deploymentId: string; batchId: string; fromSeq: number; toSeq: number }, lanes: JobLanes): ClaimFlusher;
  /** The job is done with it: resolves once its outcomes are committed (all of the flusher's, if it was the last job). */
  leave(job: { deploymentId: string; batchId: string }, lanes: JobLanes): Promise<void>;
}

export function createBatchFlushers(deps: { sql: SqlExecutor; nextToken: () => string; leaseSeconds: number; logger: Logger }): BatchFlushers {
  const open = new Map<string, { flusher: ClaimFlusher; jobs: Set<JobLanes>; range: { deploymentId: string; batchId: string; fromSeq: number; toSeq: number } }>();
  const key = (job: { deploymentId: string; batchId: string }) => `${job.deploymentId}/${job.batchId}`;
  const total = (jobs: Set<JobLanes>, of: (lanes: JobLanes) => number) => {
    let sum = 0;
    for (const lanes of jobs) sum += of(lanes);
    return sum;
  };

  return {
    join(job, lanes) {
      let entry = open.get(key(job));
      if (!entry) {
        // The range the statements check claims against: every open job's.
        const range = { deploymentId: job.deploymentId, batchId: job.batchId, fromSeq: job.fromSeq, toSeq: job.toSeq };
        const jobs = new Set<JobLanes>();
        const flusher = createClaimFlusher({
          sql: deps.sql, job: range, nextToken: deps.nextToken, leaseSeconds: deps.leaseSeconds, logger: deps.logger,
          lanesAsking: () => total(jobs, (l) => l.asking),
          rowsLeft: () => total(jobs, (l) => l.rowsLeft),
        });
        entry = { flusher, jobs, range };
        open.set(key(job), entry);
      }
      entry.range.fromSeq = Math.min(entry.range.fromSeq, job.fromSeq);
      entry.range.toSeq = Math.max(entry.range.toSeq, job.toSeq);
      entry.jobs.add(lanes);
      return entry.flusher;
    },
    async leave(job, lanes) {
      const entry = open.get(key(job));
      if (!entry) return;
      entry.jobs.delete(lanes);
      if (entry.jobs.size > 0) return entry.flusher.committed();
      open.delete(key(job));
      return entry.flusher.drain();
    },
  };
}
