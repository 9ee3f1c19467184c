import { DELIVERY, type SettledDeliveryStatus } from '../../domain/deliveries.js';
import { STATUS } from '../../domain/lifecycle.js';
import type { SqlExecutor } from '../client.js';
import { sqlValue } from '../sql-values.js';

/**
 * The send path's one statement per lane-full of messages: settle what was sent, give back what
 * was not, claim the named rows, and move the books, under the deployments' locks. Set-based SQL
 * on the raw client (arrays as parameters, CTEs that update rows and their books at once).
 */
export interface ClaimedRow {
  seq: number;
  email: string;
  /** The stored field line (db/field-line.ts). */
  fields: string;
}

export interface SettledRow {
  seq: number;
  status: SettledDeliveryStatus;
  code: number | null;
  reply: string | null;
  messageId: string | null;
}

/** A batch whose rows a statement claims: a claim must fall in the range of the send jobs asking. */
export interface ClaimRange {
  deploymentId: string;
  batchId: string;
  fromSeq: number;
  toSeq: number;
}

export interface WorkerClaimedRow extends ClaimedRow {
  batchId: string;
}

/**
 * A worker's group commit as one statement, whatever deployments its lanes are sending: settle
 * what was sent, give back what was not, undo lost claims, claim the named rows, and move each
 * batch's and each deployment's books by their net change. Every deployment touched is locked
 * first, in id order (as every writer that locks several does), before any of its rows; a claim is
 * made only while its own deployment and batch are sending, so a stopped deployment's claims are
 * refused while the others' go through. One statement for all lanes: one round trip and one commit
 * per lane-full of messages, however many deployments share the lanes.
 */
export async function settleAndClaim(
  sql: SqlExecutor,
  step: {
    claims: { range: ClaimRange; seq: number }[];
    /** Recorded as the rows' claimed_by: unique per statement, so a claim whose answer was lost can be undone. */
    claimToken: string;
    leaseSeconds: number;
    settled: { deploymentId: string; row: SettledRow }[];
    released: { deploymentId: string; seq: number }[];
    /** Earlier statements whose claims may have committed unseen: their tokens and deployments. */
    voided: { token: string; deploymentIds: string[] }[];
  },
): Promise<WorkerClaimedRow[]> {
  const { claims, settled, released, voided } = step;
  const voidedDeployments = voided.flatMap((v) => v.deploymentIds);
  const deploymentIds = [...new Set([...claims.map((c) => c.range.deploymentId), ...settled.map((s) => s.deploymentId), ...released.map((r) => r.deploymentId), ...voidedDeployments])];
  const noRows = sql`select null::text as deployment_id, null::text as batch_id, null::text as status where false`;
  const noClaims = sql`select null::text as deployment_id, null::text as batch_id, null::int as seq, null::text as email, null::text as fields where false`;
  // Every part first reads all of `lock` (a one-time filter), so each deployment is locked before any of its rows is touched.
  const locked = sql`(select count(*) from lock) > 0`;
  const returned = sql`case when (select l.status from lock l where l.id = deliveries.deployment_id) = ${sqlValue(sql, STATUS.cancelled)} then ${sqlValue(sql, DELIVERY.cancelled)} else ${sqlValue(sql, DELIVERY.pending)} end`;
  const settledSeqs = settled.map((s) => s.row.seq);
  const claimSeqs = claims.map((c) => c.seq);
  return sql<WorkerClaimedRow[]>`
    with lock as materialized (
      select id, status from deployments where id = any(${deploymentIds}::text[]) order by id for no key update
    ), settled as (${settled.length === 0 ? noRows : sql`
      update deliveries d set status = i.status, smtp_code = i.code, smtp_reply = i.reply, message_id = i.message_id,
        settled_at = now(), claim_expires_at = null, updated_at = now()
      from unnest(${settled.map((s) => s.deploymentId)}::text[], ${settledSeqs}::int[], ${settled.map((s) => s.row.status)}::text[],
        ${settled.map((s) => s.row.code)}::int[], ${settled.map((s) => s.row.reply)}::text[], ${settled.map((s) => s.row.messageId)}::text[])
        as i(deployment_id, seq, status, code, reply, message_id)
      -- The key's columns as arrays too: the planner can walk the primary key for them, or the
      -- claimed index (a few rows per lane) filtered by them, never the deployments' whole ledgers.
      where d.deployment_id = any(${[...new Set(settled.map((s) => s.deploymentId))]}::text[]) and d.seq = any(${settledSeqs}::int[])
        and d.deployment_id = i.deployment_id and d.seq = i.seq and d.status = ${sqlValue(sql, DELIVERY.claimed)} and ${locked}
      returning d.deployment_id, d.batch_id, d.status`}
    ), released as (${released.length === 0 ? noRows : sql`
      -- Given back untouched: pending again, unless the deployment was cancelled meanwhile.
      update deliveries set status = ${returned}, claimed_by = null, claim_expires_at = null, handed_over_at = null, updated_at = now()
      from unnest(${released.map((r) => r.deploymentId)}::text[], ${released.map((r) => r.seq)}::int[]) as i(deployment_id, seq)
      where deliveries.deployment_id = any(${[...new Set(released.map((r) => r.deploymentId))]}::text[]) and deliveries.seq = any(${released.map((r) => r.seq)}::int[])
        and deliveries.deployment_id = i.deployment_id and deliveries.seq = i.seq and deliveries.status = ${sqlValue(sql, DELIVERY.claimed)} and ${locked}
      returning deliveries.deployment_id, deliveries.batch_id, deliveries.status`}
    ), voided as (${voided.length === 0 ? noRows : sql`
      update deliveries set status = ${returned}, claimed_by = null, claim_expires_at = null, handed_over_at = null, updated_at = now()
      where deployment_id = any(${[...new Set(voidedDeployments)]}::text[]) and status = ${sqlValue(sql, DELIVERY.claimed)}
        and claimed_by = any(${voided.map((v) => v.token)}::text[]) and ${locked}
      returning deployment_id, batch_id, status`}
    ), claimed as (${claims.length === 0 ? noClaims : sql`
      -- Named rows, each found by the primary key. Every claimer holds the deployment lock, so no
      -- other claim can hold one of them; a row another writer has locked is waited for, then seen as it is.
      update deliveries d set status = ${sqlValue(sql, DELIVERY.claimed)}, claimed_by = ${step.claimToken}, attempts = attempts + 1,
        claim_expires_at = now() + make_interval(secs => ${step.leaseSeconds}), handed_over_at = now(), updated_at = now()
      from unnest(${claims.map((c) => c.range.deploymentId)}::text[], ${claims.map((c) => c.range.batchId)}::text[], ${claimSeqs}::int[],
        ${claims.map((c) => c.range.fromSeq)}::int[], ${claims.map((c) => c.range.toSeq)}::int[]) as c(deployment_id, batch_id, seq, from_seq, to_seq)
      -- The join alone drives the primary key: arrays of the key's columns beside it would make the
      -- plan's estimate depend on their lengths, and the planner would plan this statement anew at
      -- every call instead of keeping one generic plan for it.
      where d.deployment_id = c.deployment_id and d.seq = c.seq and d.batch_id = c.batch_id and d.status = ${sqlValue(sql, DELIVERY.pending)}
        and c.seq between c.from_seq and c.to_seq and ${locked}
        and exists (select 1 from lock l where l.id = c.deployment_id and l.status = ${sqlValue(sql, STATUS.sending)})
        and exists (select 1 from batches b where b.id = c.batch_id and b.deployment_id = c.deployment_id and b.status = ${sqlValue(sql, STATUS.sending)})
      returning d.deployment_id, d.batch_id, d.seq, d.email, d.fields`}
    ), moved as (
      select deployment_id, batch_id, 1 as in_flight, null::text as settled_as, null::text as returned_as from claimed
      union all select deployment_id, batch_id, -1, status, null from settled
      union all select deployment_id, batch_id, -1, null, status from released
      union all select deployment_id, batch_id, -1, null, status from voided
    ), t as (
      select deployment_id, batch_id, sum(in_flight)::int as in_flight,
        (count(*) filter (where settled_as = ${sqlValue(sql, DELIVERY.sent)}))::int as sent,
        (count(*) filter (where settled_as = ${sqlValue(sql, DELIVERY.bounced)}))::int as bounced,
        (count(*) filter (where settled_as = ${sqlValue(sql, DELIVERY.failed)}))::int as failed,
        (count(*) filter (where settled_as = ${sqlValue(sql, DELIVERY.unknown)}))::int as unknown,
        (count(*) filter (where returned_as = ${sqlValue(sql, DELIVERY.cancelled)}))::int as cancelled,
        bool_or(in_flight > 0) as handed_over
      from moved group by deployment_id, batch_id
    ), batch_books as (
      update batches set in_flight_count = in_flight_count + t.in_flight, sent_count = sent_count + t.sent,
        bounced_count = bounced_count + t.bounced, failed_count = failed_count + t.failed, unknown_count = unknown_count + t.unknown,
        cancelled_count = cancelled_count + t.cancelled
      from t where batches.id = t.batch_id
    ), deployment_books as (
      update deployments set in_flight_count = in_flight_count + t.in_flight, sent_count = sent_count + t.sent,
        bounced_count = bounced_count + t.bounced, failed_count = failed_count + t.failed, unknown_count = unknown_count + t.unknown,
        cancelled_count = cancelled_count + t.cancelled,
        last_hand_off_at = case when t.handed_over then now() else last_hand_off_at end
      from (
        select deployment_id, sum(in_flight)::int as in_flight, sum(sent)::int as sent, sum(bounced)::int as bounced, sum(failed)::int as failed,
          sum(unknown)::int as unknown, sum(cancelled)::int as cancelled, bool_or(handed_over) as handed_over
        from t group by deployment_id
      ) t
      where deployments.id = t.deployment_id
    )
    select batch_id as "batchId", seq, email, fields from claimed order by deployment_id, seq`;
}
