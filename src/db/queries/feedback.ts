import type { CounterDelta, Disposition, LedgerRow, LedgerStatus, RowChange } from '../../domain/feedback-effects.js';
import type { SqlExecutor } from '../client.js';

/**
 * Provider feedback's SQL: everything set-based (arrays as parameters), so a batch of thousands
 * of events is a handful of statements. Payloads go in as text with a cast: drizzle replaces this
 * client's json serializers.
 */
export interface NewProviderEvent {
  provider: string;
  eventId: string;
  type: string;
  subtype: string | null;
  deploymentId: string | null;
  seq: number | null;
  messageId: string | null;
  recipient: string | null;
  disposition: Disposition | 'quarantined' | 'pending';
  occurredAt: Date | null;
  payload: string;
}

/** Inserts what is new; returns (provider, event id) → row id for those, so a replay does nothing. */
export async function insertProviderEvents(sql: SqlExecutor, events: NewProviderEvent[]): Promise<Map<string, number>> {
  if (events.length === 0) return new Map();
  const col = <K extends keyof NewProviderEvent>(k: K) => events.map((e) => e[k]);
  const rows = await sql<{ id: string; provider: string; event_id: string }[]>`
    insert into provider_events (provider, event_id, type, subtype, deployment_id, seq, message_id, recipient, disposition, occurred_at, payload)
    select * from unnest(
      ${sql.array(col('provider') as string[])}::text[], ${sql.array(col('eventId') as string[])}::text[],
      ${sql.array(col('type') as string[])}::text[], ${sql.array(col('subtype') as string[])}::text[],
      ${sql.array(col('deploymentId') as string[])}::text[], ${sql.array(col('seq') as number[])}::int[],
      ${sql.array(col('messageId') as string[])}::text[], ${sql.array(col('recipient') as string[])}::text[],
      ${sql.array(col('disposition') as string[])}::text[],
      ${sql.array(events.map((e) => e.occurredAt?.toISOString() ?? null) as string[])}::timestamptz[],
      ${sql.array(col('payload') as string[])}::jsonb[])
    on conflict (provider, event_id) do nothing
    returning id, provider, event_id`;
  return new Map(rows.map((r) => [`${r.provider}\n${r.event_id}`, Number(r.id)]));
}

/** Locks deployments in id order, as every ledger writer does, before their ledger rows. */
export async function lockDeploymentIds(sql: SqlExecutor, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`select id from deployments where id = any(${sql.array([...ids].sort())}::text[]) order by id for update`;
}

export async function ledgerRowsFor(sql: SqlExecutor, keys: { deploymentId: string; seq: number }[]): Promise<LedgerRow[]> {
  if (keys.length === 0) return [];
  const rows = await sql<{ deployment_id: string; seq: number; batch_id: string; status: LedgerStatus; complained: boolean }[]>`
    select d.deployment_id, d.seq, d.batch_id, d.status, d.complained_at is not null as complained
    from deliveries d
    join unnest(${sql.array(keys.map((k) => k.deploymentId))}::text[], ${sql.array(keys.map((k) => k.seq))}::int[]) as k(deployment_id, seq)
      on d.deployment_id = k.deployment_id and d.seq = k.seq
    for update of d`;
  return rows.map((r) => ({ deploymentId: r.deployment_id, seq: r.seq, batchId: r.batch_id, status: r.status, complained: r.complained }));
}

export async function writeLedgerChanges(sql: SqlExecutor, changes: RowChange[]): Promise<void> {
  if (changes.length === 0) return;
  await sql`
    update deliveries d set status = c.status,
      complained_at = case when c.complained then coalesce(d.complained_at, now()) else d.complained_at end,
      smtp_reply = coalesce(c.detail, d.smtp_reply), updated_at = now()
    from unnest(
      ${sql.array(changes.map((c) => c.deploymentId))}::text[], ${sql.array(changes.map((c) => c.seq))}::int[],
      ${sql.array(changes.map((c) => c.status))}::text[], ${sql.array(changes.map((c) => c.complained))}::bool[],
      ${sql.array(changes.map((c) => c.detail) as string[])}::text[]) as c(deployment_id, seq, status, complained, detail)
    where d.deployment_id = c.deployment_id and d.seq = c.seq`;
}

/** Moves the books with the ledger, and notes when feedback last arrived for each deployment. */
export async function applyCounterDeltas(sql: SqlExecutor, deployments: Map<string, CounterDelta>, batches: Map<string, CounterDelta>, touched: string[]): Promise<void> {
  const ids = [...new Set([...deployments.keys(), ...touched])];
  if (ids.length > 0) {
    const d = ids.map((id) => deployments.get(id) ?? { sent: 0, bounced: 0, unknown: 0, complaints: 0 });
    await sql`
      update deployments t set sent_count = t.sent_count + v.sent, bounced_count = t.bounced_count + v.bounced,
        unknown_count = t.unknown_count + v.unknown, complaint_count = t.complaint_count + v.complaints, feedback_at = now()
      from unnest(${sql.array(ids)}::text[], ${sql.array(d.map((x) => x.sent))}::int[], ${sql.array(d.map((x) => x.bounced))}::int[],
        ${sql.array(d.map((x) => x.unknown))}::int[], ${sql.array(d.map((x) => x.complaints))}::int[]) as v(id, sent, bounced, unknown, complaints)
      where t.id = v.id`;
  }
  const batchIds = [...batches.keys()];
  if (batchIds.length > 0) {
    const b = batchIds.map((id) => batches.get(id)!);
    await sql`
      update batches t set sent_count = t.sent_count + v.sent, bounced_count = t.bounced_count + v.bounced, unknown_count = t.unknown_count + v.unknown, updated_at = now()
      from unnest(${sql.array(batchIds)}::text[], ${sql.array(b.map((x) => x.sent))}::int[], ${sql.array(b.map((x) => x.bounced))}::int[],
        ${sql.array(b.map((x) => x.unknown))}::int[]) as v(id, sent, bounced, unknown)
      where t.id = v.id`;
  }
}

export async function setDispositions(sql: SqlExecutor, ids: number[], dispositions: Disposition[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`
    update provider_events p set disposition = v.disposition
    from unnest(${sql.array(ids)}::bigint[], ${sql.array(dispositions)}::text[]) as v(id, disposition)
    where p.id = v.id`;
}

/** Orphans that name one of our deliveries whose ledger row may have settled since. */
export async function orphansToRetry(sql: SqlExecutor, limit: number) {
  return sql<{ id: string; payload: Record<string, unknown> }[]>`
    select p.id, p.payload from provider_events p
    join deliveries d on d.deployment_id = p.deployment_id and d.seq = p.seq
    where p.disposition = 'orphan' and p.deployment_id is not null and p.received_at > now() - interval '7 days'
      and d.status <> 'claimed'
    order by p.id limit ${limit}`;
}
