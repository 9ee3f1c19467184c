import { DELIVERY, type SettledDeliveryStatus } from '../../domain/deliveries.js';
import { AWAITING_PREFETCH, MAY_START_BATCHES, STATUS, TERMINAL_STATUSES, statusesAllowing, targetOf, type CampaignStatus } from '../../domain/lifecycle.js';
import type { SqlExecutor } from '../client.js';
import { sqlList, sqlValue } from '../sql-values.js';

/**
 * The ledger's hot paths, as set-based SQL on the raw client (arrays as parameters, CTEs that
 * update a row and its books in one statement). Every function takes the client or a transaction.
 * Timestamps come back as strings from this client.
 */
export interface ClaimedRow {
  seq: number;
  email: string;
  /** The stored field line; see parseFieldLine. */
  fields: string;
}

export interface SettledRow {
  seq: number;
  status: SettledDeliveryStatus;
  code: number | null;
  reply: string | null;
  messageId: string | null;
}

/**
 * A claimed row given back untouched: pending again, unless its deployment (locked as `lock`) was
 * cancelled meanwhile (its ledger marking may be over already); then it will never be sent.
 */
const returnedStatus = (sql: SqlExecutor) =>
  sql`case when (select status from lock) = ${sqlValue(sql, STATUS.cancelled)} then ${sqlValue(sql, DELIVERY.cancelled)} else ${sqlValue(sql, DELIVERY.pending)} end`;

/** Deployments whose prefetch is due (or was cut short by a crash). */
export async function deploymentsDueForPrefetch(sql: SqlExecutor, leadSeconds: number, limit = 50) {
  return sql<{ id: string }[]>`
    select id from deployments
    where (status in ${sqlList(sql, statusesAllowing('startPrefetch'))} and send_at <= now() + make_interval(secs => ${leadSeconds}))
       or status = ${sqlValue(sql, targetOf('startPrefetch'))}
    order by send_at
    limit ${limit}`;
}

/**
 * Batches whose trigger should be queued: scheduled ones due within the horizon whose audience is
 * ready, and sending ones whose send jobs were not queued for the current generation yet (after a
 * resume, or when Redis lost them).
 */
export async function batchesDueForTrigger(sql: SqlExecutor, horizonSeconds: number, limit = 200) {
  return sql<{ id: string; deployment_id: string; send_at: string; generation: number }[]>`
    select b.id, b.deployment_id, b.send_at, d.generation
    from batches b join deployments d on d.id = b.deployment_id
    where (b.status = ${sqlValue(sql, STATUS.scheduled)} and b.send_at <= now() + make_interval(secs => ${horizonSeconds}) and d.status in ${sqlList(sql, MAY_START_BATCHES)})
       or (b.status = ${sqlValue(sql, STATUS.sending)} and d.status = ${sqlValue(sql, STATUS.sending)} and b.triggered_generation < d.generation)
    order by b.send_at
    limit ${limit}`;
}

export async function markBatchTriggered(sql: SqlExecutor, batchId: string, generation: number): Promise<void> {
  await sql`update batches set triggered_generation = greatest(triggered_generation, ${generation}) where id = ${batchId}`;
}

export async function beginPrefetch(sql: SqlExecutor, deploymentId: string) {
  const [row] = await sql<{ status: string; prefetched_count: number; total_count: number }[]>`
    update deployments set status = ${sqlValue(sql, targetOf('startPrefetch'))}, updated_at = now()
    where id = ${deploymentId} and status in ${sqlList(sql, AWAITING_PREFETCH)}
    returning status, prefetched_count, total_count`;
  return row;
}

/**
 * Materialises the next `chunks` audience chunks after the recipients already prefetched into
 * pending ledger rows, with their batch, and advances the deployment's prefetch mark in the same
 * statement (so a chunk is never inserted twice) — only while the deployment is still
 * prefetching (a cancel or pause in between stops it). Returns the rows inserted, or undefined
 * when the deployment is no longer prefetching.
 */
export async function prefetchNextChunks(sql: SqlExecutor, deploymentId: string, chunks: number): Promise<number | undefined> {
  // The deployment row is locked first (for update in `dep`), as every other writer does.
  const [row] = await sql<{ inserted: number | null; prefetching: boolean }[]>`
    with dep as (
      select id, prefetched_chunks from deployments where id = ${deploymentId} and status = ${sqlValue(sql, STATUS.prefetching)} for update
    ), next as (
      select c.* from audience_chunks c, dep
      where c.deployment_id = dep.id and c.chunk_no >= dep.prefetched_chunks
      order by c.chunk_no
      limit ${chunks}
    ), inserted as (
      insert into deliveries (deployment_id, seq, batch_id, email, fields, status)
      select n.deployment_id, n.first_seq + r.ord::int - 1, b.id, r.email, r.fields,
        case when b.status = ${sqlValue(sql, STATUS.cancelled)} then ${sqlValue(sql, DELIVERY.cancelled)} else ${sqlValue(sql, DELIVERY.pending)} end
      from next n
      cross join lateral rows from (string_to_table(n.emails, e'\\n'), string_to_table(n.fields, e'\\n')) with ordinality as r(email, fields, ord)
      join batches b on b.deployment_id = n.deployment_id and n.first_seq + r.ord::int - 1 between b.first_seq and b.last_seq
      returning 1
    ), advanced as (
      update deployments set prefetched_count = coalesce((select max(first_seq + row_count - 1) from next), prefetched_count),
        prefetched_chunks = prefetched_chunks + (select count(*) from next), updated_at = now()
      where id = (select id from dep)
      returning 1
    )
    select (select count(*)::int from inserted) as inserted, exists (select 1 from dep) as prefetching`;
  return row!.prefetching ? row!.inserted ?? 0 : undefined;
}

export async function finishPrefetch(sql: SqlExecutor, deploymentId: string): Promise<boolean> {
  const rows = await sql`
    update deployments set status = ${sqlValue(sql, targetOf('finishPrefetch'))}, updated_at = now()
    where id = ${deploymentId} and status in ${sqlList(sql, statusesAllowing('finishPrefetch'))} and prefetched_count >= total_count
    returning 1`;
  return rows.length === 1;
}

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

/**
 * Every writer of a deployment's ledger or books (claim, settle, release, sweep, pause, cancel)
 * first takes this lock on the deployment row, inside its transaction. One lock order (deployment,
 * then batches, then ledger rows) means no deadlocks between workers; and a claim can never
 * slip past a pause or cancel: once the status change commits, the next claim sees it.
 */
export async function lockDeployment(sql: SqlExecutor, deploymentId: string): Promise<string | undefined> {
  const [row] = await sql<{ status: string }[]>`select status from deployments where id = ${deploymentId} for no key update`;
  return row?.status;
}

/** The rows of a send job's range still waiting to be sent, in order (read without a claim). */
export async function pendingInRange(sql: SqlExecutor, range: { deploymentId: string; batchId: string; fromSeq: number; toSeq: number }): Promise<ClaimedRow[]> {
  return sql<ClaimedRow[]>`
    select seq, email, fields from deliveries
    where deployment_id = ${range.deploymentId} and batch_id = ${range.batchId} and status = ${sqlValue(sql, DELIVERY.pending)} and seq between ${range.fromSeq} and ${range.toSeq}
    order by seq`;
}

/** The first recipient of a range still waiting to be sent (the primary key walks to it). */
export async function firstPendingSeq(sql: SqlExecutor, range: { deploymentId: string; batchId: string; fromSeq: number; toSeq: number }): Promise<number | undefined> {
  const [row] = await sql<{ seq: number }[]>`
    select seq from deliveries
    where deployment_id = ${range.deploymentId} and seq between ${range.fromSeq} and ${range.toSeq} and batch_id = ${range.batchId} and status = ${sqlValue(sql, DELIVERY.pending)}
    order by seq limit 1`;
  return row?.seq;
}

/**
 * A live worker extends the lease on what it holds; only a dead worker's claims expire. Each claim
 * is made under its own token, `<workerId>/<n>` (see settleAndClaim).
 */
export async function renewLeases(sql: SqlExecutor, workerId: string, leaseSeconds: number): Promise<number> {
  const rows = await sql`
    update deliveries set claim_expires_at = now() + make_interval(secs => ${leaseSeconds})
    where status = ${sqlValue(sql, DELIVERY.claimed)} and starts_with(claimed_by, ${`${workerId}/`})
    returning 1`;
  return rows.length;
}

/** Deployments that hold claims whose lease has run out (their worker died). */
export async function deploymentsWithExpiredClaims(sql: SqlExecutor, limit = 100) {
  return sql<{ deployment_id: string }[]>`
    select distinct deployment_id from deliveries where status = ${sqlValue(sql, DELIVERY.claimed)} and claim_expires_at < now() limit ${limit}`;
}

/**
 * Claims whose worker died become `unknown`: the message may or may not have left, so it is
 * counted and shown, never sent again. Caller holds the deployment lock. Returns the batches
 * touched (to check for completion).
 */
export async function expireClaims(sql: SqlExecutor, deploymentId: string, limit = 1000): Promise<{ batch_id: string; n: number }[]> {
  return sql<{ batch_id: string; n: number }[]>`
    with expired as (
      select seq from deliveries
      where deployment_id = ${deploymentId} and status = ${sqlValue(sql, DELIVERY.claimed)} and claim_expires_at < now()
      limit ${limit}
      for update skip locked
    ), marked as (
      update deliveries d set status = ${sqlValue(sql, DELIVERY.unknown)}, settled_at = now(), updated_at = now(),
        smtp_reply = 'lease expired: the worker stopped while the message was in flight'
      from expired e where d.deployment_id = ${deploymentId} and d.seq = e.seq and d.status = ${sqlValue(sql, DELIVERY.claimed)}
      returning d.batch_id
    ), per_batch as (
      select batch_id, count(*)::int as n from marked group by batch_id
    ), batch_books as (
      update batches b set in_flight_count = in_flight_count - t.n, unknown_count = unknown_count + t.n
      from per_batch t where b.id = t.batch_id
    ), deployment_books as (
      update deployments set in_flight_count = in_flight_count - t.n, unknown_count = unknown_count + t.n
      from (select sum(n)::int as n from per_batch) t where id = ${deploymentId} and t.n > 0
    )
    select batch_id, n from per_batch`;
}

/** A batch is done when every recipient has a final status and nothing is in flight. */
export async function completeBatchIfDone(sql: SqlExecutor, batchId: string): Promise<boolean> {
  const rows = await sql`
    update batches set status = ${sqlValue(sql, STATUS.completed)}, completed_at = now(), updated_at = now()
    where id = ${batchId} and status = ${sqlValue(sql, STATUS.sending)} and in_flight_count = 0
      and sent_count + bounced_count + failed_count + unknown_count + cancelled_count >= total_count
    returning 1`;
  return rows.length === 1;
}

/** A deployment is done when all its batches are (completed or cancelled) and it was sending. */
export async function completeDeploymentIfDone(sql: SqlExecutor, deploymentId: string): Promise<string | undefined> {
  const [row] = await sql<{ campaign_id: string }[]>`
    update deployments set status = ${sqlValue(sql, targetOf('complete'))}, completed_at = now(), updated_at = now()
    where id = ${deploymentId} and status = ${sqlValue(sql, STATUS.sending)} and in_flight_count = 0
      and not exists (select 1 from batches where deployment_id = ${deploymentId} and status not in ${sqlList(sql, TERMINAL_STATUSES)})
    returning campaign_id`;
  return row?.campaign_id;
}

export async function deploymentStatuses(sql: SqlExecutor, campaignId: string) {
  return sql<{ status: string }[]>`select status from deployments where campaign_id = ${campaignId}`;
}

/** Cancelled is final: a campaign's status follows its deployments only until it is cancelled. */
export async function setCampaignStatus(sql: SqlExecutor, campaignId: string, status: CampaignStatus): Promise<void> {
  await sql`update campaigns set status = ${status}, updated_at = now() where id = ${campaignId} and status <> ${status} and status <> ${sqlValue(sql, STATUS.cancelled)}`;
}

/** What a send needs besides the recipient: the campaign's content, merge-field names and send weight. */
export async function contentForDeployment(sql: SqlExecutor, deploymentId: string) {
  const [row] = await sql<{ campaign_id: string; from_address: string; subject: string; body_text: string; field_names: string[]; send_weight: number }[]>`
    select c.id as campaign_id, c.from_address, c.subject, c.body_text, c.field_names, c.send_weight
    from deployments d join campaigns c on c.id = d.campaign_id where d.id = ${deploymentId}`;
  return row;
}

export async function statusesOf(sql: SqlExecutor, deploymentIds: string[]) {
  if (deploymentIds.length === 0) return [];
  return sql<{ id: string; status: string; stopped_at: string | null }[]>`
    select id, status, (extract(epoch from coalesce(cancelled_at, paused_at)) * 1000)::bigint as stopped_at
    from deployments where id = any(${sql.array(deploymentIds)}::text[])`;
}

/**
 * A send job's round trip, as one statement: lock the deployment row (first, as every writer
 * does), record finished outcomes, return released rows to pending, and — only while the
 * deployment and the batch are sending — claim up to `limit` pending rows of the job's range;
 * the books move once, by the net change. One statement means one round trip and one commit per
 * sub-batch.
 */
export async function settleAndClaim(
  sql: SqlExecutor,
  step: {
    deploymentId: string;
    batchId: string;
    fromSeq: number;
    toSeq: number;
    limit: number;
    /** Claim these rows (those still pending) instead of the next `limit` pending ones. */
    seqs?: number[];
    /** Recorded as the rows' claimed_by: unique per claim, so a claim whose answer was lost can be undone. */
    claimToken: string;
    leaseSeconds: number;
    settled: SettledRow[];
    released: number[];
    /** Tokens of earlier claims whose statement failed: it may have committed, but no row reached a lane. */
    voided?: string[];
  },
): Promise<ClaimedRow[]> {
  const { deploymentId, batchId, settled, seqs } = step;
  const claiming = step.limit > 0 && (seqs === undefined || seqs.length > 0);
  // A part with nothing to do is left out rather than run on empty arrays: most statements only
  // settle or only claim, and planning and running the idle parts was half their Postgres time.
  const noRows = sql`select null::text as status where false`;
  const noClaims = sql`select null::int as seq, null::text as email, null::text as fields where false`;
  return sql<ClaimedRow[]>`
    with lock as (
      select status from deployments where id = ${deploymentId} for no key update
    ), settled as (${settled.length === 0 ? noRows : sql`
      update deliveries d set status = i.status, smtp_code = i.code, smtp_reply = i.reply, message_id = i.message_id,
        settled_at = now(), claim_expires_at = null, updated_at = now()
      from unnest(${sql.array(settled.map((r) => r.seq))}::int[], ${sql.array(settled.map((r) => r.status))}::text[],
        ${sql.array(settled.map((r) => r.code))}::int[], ${sql.array(settled.map((r) => r.reply))}::text[], ${sql.array(settled.map((r) => r.messageId))}::text[])
        as i(seq, status, code, reply, message_id)
      -- seq = any(…) makes the primary key drive this update; a join alone lets the planner walk the claimed index.
      where d.deployment_id = ${deploymentId} and d.seq = any(${sql.array(settled.map((r) => r.seq))}::int[]) and d.seq = i.seq
        and d.status = ${sqlValue(sql, DELIVERY.claimed)} and exists (select 1 from lock)
      returning d.status`}
    ), released as (${step.released.length === 0 ? noRows : sql`
      -- Given back untouched: pending again, unless the deployment was cancelled meanwhile (its
      -- ledger marking may be over already); then it is one more that will never be sent.
      update deliveries set status = ${returnedStatus(sql)},
        claimed_by = null, claim_expires_at = null, handed_over_at = null, updated_at = now()
      where deployment_id = ${deploymentId} and seq = any(${sql.array(step.released)}::int[]) and status = ${sqlValue(sql, DELIVERY.claimed)} and exists (select 1 from lock)
      returning status`}
    ), voided as (${!step.voided?.length ? noRows : sql`
      update deliveries set status = ${returnedStatus(sql)},
        claimed_by = null, claim_expires_at = null, handed_over_at = null, updated_at = now()
      where deployment_id = ${deploymentId} and status = ${sqlValue(sql, DELIVERY.claimed)} and claimed_by = any(${sql.array(step.voided)}::text[]) and exists (select 1 from lock)
      returning status`}
    ), claimed as (${!claiming ? noClaims : seqs ? sql`
      -- Named rows: the primary key finds each one. Every claimer holds the deployment lock, so no
      -- other claim can hold one of them; a row another writer has locked is waited for, then seen as it is.
      update deliveries set status = ${sqlValue(sql, DELIVERY.claimed)}, claimed_by = ${step.claimToken}, attempts = attempts + 1,
        claim_expires_at = now() + make_interval(secs => ${step.leaseSeconds}), handed_over_at = now(), updated_at = now()
      where deployment_id = ${deploymentId} and seq = any(${sql.array(seqs)}::int[]) and batch_id = ${batchId} and status = ${sqlValue(sql, DELIVERY.pending)}
        and seq between ${step.fromSeq} and ${step.toSeq}
        and (select status from lock) = ${sqlValue(sql, STATUS.sending)}
        and exists (select 1 from batches where id = ${batchId} and status = ${sqlValue(sql, STATUS.sending)})
      returning seq, email, fields` : sql`
      update deliveries d set status = ${sqlValue(sql, DELIVERY.claimed)}, claimed_by = ${step.claimToken}, attempts = attempts + 1,
        claim_expires_at = now() + make_interval(secs => ${step.leaseSeconds}), handed_over_at = now(), updated_at = now()
      -- The picked seqs as an array, so the primary key finds each row without a join to plan.
      where d.deployment_id = ${deploymentId} and d.seq = any(array(
        select p.seq from deliveries p
        where p.deployment_id = ${deploymentId} and p.batch_id = ${batchId} and p.status = ${sqlValue(sql, DELIVERY.pending)}
          and p.seq between ${step.fromSeq} and ${step.toSeq}
          and (select status from lock) = ${sqlValue(sql, STATUS.sending)}
          and exists (select 1 from batches where id = ${batchId} and status = ${sqlValue(sql, STATUS.sending)})
        order by p.seq
        limit ${step.limit}
        for update skip locked
      ))
      returning d.seq, d.email, d.fields`}
    ), t as (
      select
        (select count(*) from claimed)::int - (select count(*) from settled)::int - (select count(*) from released)::int - (select count(*) from voided)::int as in_flight,
        (select count(*) from settled where status = ${sqlValue(sql, DELIVERY.sent)})::int as sent,
        (select count(*) from settled where status = ${sqlValue(sql, DELIVERY.bounced)})::int as bounced,
        (select count(*) from settled where status = ${sqlValue(sql, DELIVERY.failed)})::int as failed,
        (select count(*) from settled where status = ${sqlValue(sql, DELIVERY.unknown)})::int as unknown,
        (select count(*) from released where status = ${sqlValue(sql, DELIVERY.cancelled)})::int + (select count(*) from voided where status = ${sqlValue(sql, DELIVERY.cancelled)})::int as cancelled,
        (select count(*) from claimed) + (select count(*) from settled) + (select count(*) from released) + (select count(*) from voided) as touched
    ), batch_books as (
      update batches set in_flight_count = in_flight_count + t.in_flight, sent_count = sent_count + t.sent,
        bounced_count = bounced_count + t.bounced, failed_count = failed_count + t.failed, unknown_count = unknown_count + t.unknown,
        cancelled_count = cancelled_count + t.cancelled
      from t where id = ${batchId} and t.touched > 0
    ), deployment_books as (
      update deployments set in_flight_count = in_flight_count + t.in_flight, sent_count = sent_count + t.sent,
        bounced_count = bounced_count + t.bounced, failed_count = failed_count + t.failed, unknown_count = unknown_count + t.unknown,
        cancelled_count = cancelled_count + t.cancelled,
        last_hand_off_at = case when exists (select 1 from claimed) then now() else last_hand_off_at end
      from t where id = ${deploymentId} and t.touched > 0
    )
    select seq, email, fields from claimed order by seq`;
}
