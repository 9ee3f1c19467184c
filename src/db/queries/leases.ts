import { DELIVERY } from '../../domain/deliveries.js';
import type { SqlExecutor } from '../client.js';
import { sqlValue } from '../sql-values.js';

/**
 * Claim leases: a live worker renews what it holds; the claims of a dead worker expire and their
 * rows become `unknown` (they may have left), with the books moved in the same statement.
 */
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
