import { DELIVERY } from '../../domain/deliveries.js';
import { STATUS } from '../../domain/lifecycle.js';
import type { SqlExecutor } from '../../db/client.js';
import { sqlValue } from '../../db/sql-values.js';
import { jobIds, RECIPIENTS_PER_SEND_JOB, SEND_JOBS_AHEAD, sendJobsFor } from '../../domain/send-jobs.js';
import type { SendQueue } from '../ports.js';

/**
 * Postgres decides, Redis carries: if Redis loses its jobs (restarted without its data, flushed,
 * evicted), a sending batch would wait forever for send jobs that no longer exist. Every pass
 * notes each sending batch's progress; a batch with recipients left, nothing in flight and no
 * progress since the last pass has its send-job ranges checked, and the first few ranges with
 * pending recipients whose jobs are gone are queued again under their own deterministic ids (so
 * two workers reconciling at once queue them once); as every send job queues the one after it
 * (SEND_JOBS_AHEAD), they carry the batch on to its end. Rows already sent are never claimed again.
 */
interface BatchProgress {
  id: string;
  deployment_id: string;
  first_seq: number;
  last_seq: number;
  generation: number;
  done: number;
}

export function createSendReconciler(deps: { sql: SqlExecutor; sendQueue: SendQueue }) {
  const lastSeen = new Map<string, number>();

  async function pendingRanges(batch: BatchProgress): Promise<number[]> {
    const rows = await deps.sql<{ from_seq: number }[]>`
      select distinct ${batch.first_seq}::int + ((seq - ${batch.first_seq}::int) / ${RECIPIENTS_PER_SEND_JOB}::int) * ${RECIPIENTS_PER_SEND_JOB}::int as from_seq
      from deliveries
      where deployment_id = ${batch.deployment_id} and seq between ${batch.first_seq} and ${batch.last_seq} and batch_id = ${batch.id} and status = ${sqlValue(deps.sql, DELIVERY.pending)}
      order by 1`;
    return rows.map((r) => r.from_seq);
  }

  /** Returns how many send jobs were queued again. */
  return async function reconcile(): Promise<number> {
    const batches = await deps.sql<BatchProgress[]>`
      select b.id, b.deployment_id, b.first_seq, b.last_seq, d.generation,
        b.sent_count + b.bounced_count + b.failed_count + b.unknown_count + b.cancelled_count as done
      from batches b join deployments d on d.id = b.deployment_id
      where b.status = ${sqlValue(deps.sql, STATUS.sending)} and d.status = ${sqlValue(deps.sql, STATUS.sending)} and b.triggered_generation >= d.generation
        and b.in_flight_count = 0 and b.sent_count + b.bounced_count + b.failed_count + b.unknown_count + b.cancelled_count < b.total_count`;
    const stalled = batches.filter((b) => lastSeen.get(b.id) === b.done);
    lastSeen.clear();
    for (const b of batches) lastSeen.set(b.id, b.done);

    let requeued = 0;
    for (const batch of stalled) {
      const lost: number[] = [];
      for (const from of await pendingRanges(batch)) {
        if ((await deps.sendQueue.getJobState(jobIds.send(batch.id, from, batch.generation))) === 'unknown') lost.push(from);
        if (lost.length === SEND_JOBS_AHEAD) break;
      }
      const missing = sendJobsFor({ batchId: batch.id, deploymentId: batch.deployment_id, lastSeq: batch.last_seq, generation: batch.generation }, lost);
      if (missing.length > 0) await deps.sendQueue.addBulk(missing);
      requeued += missing.length;
    }
    return requeued;
  };
}
