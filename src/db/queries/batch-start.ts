import { DELIVERY } from '../../domain/deliveries.js';
import { MAY_START_BATCHES, STATUS, statusesAllowing, targetOf } from '../../domain/lifecycle.js';
import type { SqlExecutor } from '../client.js';
import { sqlList, sqlValue } from '../sql-values.js';
import type { ClaimedRow } from './claims.js';

/**
 * A batch's start and what a send job reads before it claims: the batch's seq range, its first
 * pending recipient, a range's pending rows, and the campaign content a message is built from.
 */
/**
 * Starts a batch at its time: scheduled → sending (or already sending, for a resume), and the
 * deployment prefetched → sending. Returns the batch's seq range, or undefined when it may not send.
 */
export async function startBatch(sql: SqlExecutor, batchId: string) {
  const [batch] = await sql<{ deployment_id: string; first_seq: number; last_seq: number; total_count: number }[]>`
    with dep as (
      select d.id from deployments d join batches b on b.deployment_id = d.id
      where b.id = ${batchId} and d.status in ${sqlList(sql, MAY_START_BATCHES)} for update of d
    ), started_dep as (
      update deployments set status = ${sqlValue(sql, targetOf('startSending'))}, started_at = coalesce(started_at, now()), updated_at = now()
      where id = (select id from dep) and status in ${sqlList(sql, statusesAllowing('startSending'))}
      returning 1
    )
    update batches set status = ${sqlValue(sql, STATUS.sending)}, started_at = coalesce(started_at, now()), updated_at = now()
    where id = ${batchId} and status in ${sqlList(sql, [STATUS.scheduled, STATUS.sending])} and deployment_id = (select id from dep)
    returning deployment_id, first_seq, last_seq, total_count`;
  return batch;
}

/** The first recipient of a range still waiting to be sent (the primary key walks to it). */
export async function firstPendingSeq(sql: SqlExecutor, range: { deploymentId: string; batchId: string; fromSeq: number; toSeq: number }): Promise<number | undefined> {
  const [row] = await sql<{ seq: number }[]>`
    select seq from deliveries
    where deployment_id = ${range.deploymentId} and seq between ${range.fromSeq} and ${range.toSeq} and batch_id = ${range.batchId} and status = ${sqlValue(sql, DELIVERY.pending)}
    order by seq limit 1`;
  return row?.seq;
}

/** The rows of a send job's range still waiting to be sent, in order (read without a claim). */
export async function pendingInRange(sql: SqlExecutor, range: { deploymentId: string; batchId: string; fromSeq: number; toSeq: number }): Promise<ClaimedRow[]> {
  return sql<ClaimedRow[]>`
    select seq, email, fields from deliveries
    where deployment_id = ${range.deploymentId} and batch_id = ${range.batchId} and status = ${sqlValue(sql, DELIVERY.pending)} and seq between ${range.fromSeq} and ${range.toSeq}
    order by seq`;
}

/** What a send needs besides the recipient: the campaign's content, merge-field names and send weight. */
export async function contentForDeployment(sql: SqlExecutor, deploymentId: string) {
  const [row] = await sql<{ campaign_id: string; from_address: string; subject: string; body_text: string; field_names: string[]; send_weight: number }[]>`
    select c.id as campaign_id, c.from_address, c.subject, c.body_text, c.field_names, c.send_weight
    from deployments d join campaigns c on c.id = d.campaign_id where d.id = ${deploymentId}`;
  return row;
}
