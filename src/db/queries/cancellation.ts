import { DELIVERY } from '../../domain/deliveries.js';
import { STATUS, TERMINAL_STATUSES, targetOf } from '../../domain/lifecycle.js';
import type { SqlExecutor } from '../client.js';
import { sqlList, sqlValue } from '../sql-values.js';
import { recentAlert } from './alerts.js';

/**
 * The cancel path's SQL: O(1) in audience size inside the transaction; the ledger follows later.
 * JSON goes in as text with a cast: drizzle replaces this client's json serializers.
 */

/** The deployment a batch belongs to, read before its deployment is locked (deployment first, always). */
export async function deploymentOfBatch(sql: SqlExecutor, batchId: string): Promise<string | undefined> {
  const [row] = await sql<{ deployment_id: string }[]>`select deployment_id from batches where id = ${batchId}`;
  return row?.deployment_id;
}

/** Who cancelled a deployment, or the campaign's first deployment, and when. */
export async function whoCancelled(sql: SqlExecutor, target: string) {
  const [row] = await sql<{ cancelled_by: string | null; cancelled_at: string | null }[]>`select cancelled_by, cancelled_at from deployments where id = ${target} or campaign_id = ${target} limit 1`;
  return row;
}

/** Everything not yet sent or in flight becomes `cancelled` in the books, at once. */
export async function cancelDeployments(sql: SqlExecutor, ids: string[], actor: string, reason: string | null): Promise<void> {
  await sql`
    update deployments set status = ${sqlValue(sql, targetOf('cancel'))}, cancelled_by = ${actor}, cancelled_at = now(), cancel_reason = ${reason}, updated_at = now(),
      cancelled_count = greatest(0, total_count - sent_count - bounced_count - failed_count - unknown_count - in_flight_count)
    where id = any(${ids}::text[])`;
  await sql`
    update batches set status = ${sqlValue(sql, STATUS.cancelled)}, cancelled_by = ${actor}, cancelled_at = now(), updated_at = now(),
      cancelled_count = greatest(0, total_count - sent_count - bounced_count - failed_count - unknown_count - in_flight_count)
    where deployment_id = any(${ids}::text[]) and status not in ${sqlList(sql, TERMINAL_STATUSES)}`;
}

export async function cancelCampaignRow(sql: SqlExecutor, campaignId: string, actor: string, reason: string | null): Promise<void> {
  await sql`update campaigns set status = ${sqlValue(sql, STATUS.cancelled)}, cancelled_by = ${actor}, cancelled_at = now(), cancel_reason = ${reason}, updated_at = now() where id = ${campaignId}`;
}

export async function lockBatch(sql: SqlExecutor, batchId: string) {
  const [row] = await sql<{ id: string; deployment_id: string; position: number; status: string; total_count: number; sent_count: number; in_flight_count: number; cancelled_by: string | null; cancelled_at: string | null }[]>`
    select * from batches where id = ${batchId} for update`;
  return row;
}

/** A batch that has not started: all of it will never be sent; the deployment's books follow. */
export async function cancelBatchRow(sql: SqlExecutor, batchId: string, deploymentId: string, actor: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    update batches set status = ${sqlValue(sql, STATUS.cancelled)}, cancelled_by = ${actor}, cancelled_at = now(), updated_at = now(),
      cancelled_count = greatest(0, total_count - sent_count - bounced_count - failed_count - unknown_count - in_flight_count)
    where id = ${batchId} returning cancelled_count as n`;
  await sql`update deployments set cancelled_count = cancelled_count + ${row!.n}, updated_at = now() where id = ${deploymentId}`;
  return row!.n;
}

/**
 * After the commit: the ledger's pending rows of a cancelled deployment (or one of its batches),
 * one seq range at a time, so each statement is bounded and the whole pass is linear.
 */
export async function markPendingCancelled(sql: SqlExecutor, deploymentId: string, batchId: string | null, fromSeq: number, toSeq: number): Promise<number> {
  const rows = await sql`
    update deliveries set status = ${sqlValue(sql, DELIVERY.cancelled)}, updated_at = now()
    where deployment_id = ${deploymentId} and seq between ${fromSeq} and ${toSeq} and status = ${sqlValue(sql, DELIVERY.pending)}
      and (${batchId}::text is null or batch_id = ${batchId})
    returning 1`;
  return rows.length;
}

/**
 * The second thread reply of a cancel: once nothing of a cancelled deployment is in flight, its
 * final counts, in the thread of each of its open or recent alert messages (or, with none, to
 * the alert channel). Idempotent (one per deployment and thread), so every path that can settle
 * the last message (a send job, the lease sweeper, the cancel itself) may call it.
 */
export async function reportSettledCancel(sql: SqlExecutor, deploymentId: string): Promise<void> {
  await sql`
    with settled as (
      select id, json_build_object(
        'type', 'cancel_settled', 'deploymentId', id, 'campaignId', campaign_id,
        'sent', sent_count, 'bounced', bounced_count, 'failed', failed_count, 'unknown', unknown_count,
        'neverSent', cancelled_count, 'total', total_count)::jsonb as payload
      from deployments where id = ${deploymentId} and status = ${sqlValue(sql, STATUS.cancelled)} and in_flight_count = 0
    ), threads as (
      select a.id from alerts a
      where a.deployment_id = ${deploymentId} and ${recentAlert(sql)}
    )
    insert into slack_outbox (kind, dedupe_key, alert_id, payload)
    select 'thread_reply', 'cancel-settled:' || s.id || ':' || t.id, t.id, s.payload from settled s cross join threads t
    union all
    select 'post', 'cancel-settled:' || s.id, null, s.payload from settled s where not exists (select 1 from threads)
    on conflict (dedupe_key) do nothing`;
}

export async function closeCancelledLedger(sql: SqlExecutor, deploymentId: string): Promise<void> {
  await sql`update deployments set ledger_closed = true where id = ${deploymentId}`;
}

/** Cancelled deployments whose ledger marking never finished (the process that cancelled died). */
export async function cancelledLedgersLeftOpen(sql: SqlExecutor, olderThanSeconds: number, limit = 10) {
  return sql<{ id: string }[]>`
    select id from deployments
    where status = ${sqlValue(sql, STATUS.cancelled)} and not ledger_closed and cancelled_at < now() - make_interval(secs => ${olderThanSeconds})
    order by cancelled_at limit ${limit}`;
}

/** Marks every pending row of a deployment (or one batch) cancelled, a bounded range at a time. */
export async function markLedgerCancelled(sql: SqlExecutor, deploymentId: string, batchId: string | null, range = 10_000): Promise<void> {
  const [top] = await sql<{ max: number | null }[]>`select max(seq) as max from deliveries where deployment_id = ${deploymentId}`;
  for (let from = 1; from <= (top?.max ?? 0); from += range) await markPendingCancelled(sql, deploymentId, batchId, from, from + range - 1);
  if (batchId === null) await closeCancelledLedger(sql, deploymentId);
}
