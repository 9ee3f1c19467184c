import { DELIVERY } from '../../domain/deliveries.js';
import { AWAITING_PREFETCH, STATUS, statusesAllowing, targetOf } from '../../domain/lifecycle.js';
import type { SqlExecutor } from '../client.js';
import { LINE_SEPARATOR } from '../field-line.js';
import { sqlList, sqlValue } from '../sql-values.js';

/**
 * Prefetch: a deployment's audience chunks become pending ledger rows, a bounded number of chunks
 * per statement, resumable after a crash (the deployment's prefetch mark moves with the rows).
 */
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
      cross join lateral rows from (string_to_table(n.emails, ${LINE_SEPARATOR}::text), string_to_table(n.fields, ${LINE_SEPARATOR}::text)) with ordinality as r(email, fields, ord)
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
