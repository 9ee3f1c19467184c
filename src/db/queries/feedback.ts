import type { CounterDelta, Disposition, LedgerRow, LedgerStatus, RowChange } from '../../domain/feedback-effects.js';
import { DELIVERY } from '../../domain/deliveries.js';
import type { SqlExecutor } from '../client.js';
import { sqlValue } from '../sql-values.js';

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

export async function ledgerRowsFor(sql: SqlExecutor, keys: { deploymentId: string; seq: number }[]): Promise<LedgerRow[]> {
  if (keys.length === 0) return [];
  const rows = await sql<{ deployment_id: string; seq: number; batch_id: string; status: LedgerStatus; complained: boolean }[]>`
    select d.deployment_id, d.seq, d.batch_id, d.status, d.complained_at is not null as complained
    from deliveries d
    join unnest(${keys.map((k) => k.deploymentId)}::text[], ${keys.map((k) => k.seq)}::int[]) as k(deployment_id, seq)
      on d.deployment_id = k.deployment_id and d.seq = k.seq
    for update of d`;
  return rows.map((r) => ({ deploymentId: r.deployment_id, seq: r.seq, batchId: r.batch_id, status: r.status, complained: r.complained }));
}

export interface FeedbackWrites {
  events: NewProviderEvent[];
  changes: RowChange[];
  deployments: Map<string, CounterDelta>;
  batches: Map<string, CounterDelta>;
  /** Deployments that heard from a provider (their feedback time moves even when nothing changed). */
  touched: string[];
}

/**
 * Everything an ingestion writes, in one statement: the events (what is new; returns their keys,
 * so a replay is reported as such), the ledger rows they changed, and the books of deployments
 * and batches. Callers hold the deployment and ledger row locks already.
 */
export async function recordFeedback(sql: SqlExecutor, w: FeedbackWrites): Promise<Set<string>> {
  const ev = <K extends keyof NewProviderEvent>(k: K) => w.events.map((e) => e[k]);
  const ch = w.changes;
  const ids = [...new Set([...w.deployments.keys(), ...w.touched])];
  const d = ids.map((id) => w.deployments.get(id) ?? { sent: 0, bounced: 0, unknown: 0, complaints: 0 });
  const batchIds = [...w.batches.keys()];
  const b = batchIds.map((id) => w.batches.get(id)!);
  const rows = await sql<{ provider: string; event_id: string }[]>`
    with inserted as (
      insert into provider_events (provider, event_id, type, subtype, deployment_id, seq, message_id, recipient, disposition, occurred_at, payload)
      -- Timestamps and JSON travel as text: postgres.js cannot type an empty array of either.
      select provider, event_id, type, subtype, deployment_id, seq, message_id, recipient, disposition, occurred_at::timestamptz, payload::jsonb
      from unnest(
        ${ev('provider') as string[]}::text[], ${ev('eventId') as string[]}::text[],
        ${ev('type') as string[]}::text[], ${ev('subtype') as string[]}::text[],
        ${ev('deploymentId') as string[]}::text[], ${ev('seq') as number[]}::int[],
        ${ev('messageId') as string[]}::text[], ${ev('recipient') as string[]}::text[],
        ${ev('disposition') as string[]}::text[],
        ${w.events.map((e) => e.occurredAt?.toISOString() ?? null) as string[]}::text[],
        ${ev('payload') as string[]}::text[])
        as e(provider, event_id, type, subtype, deployment_id, seq, message_id, recipient, disposition, occurred_at, payload)
      on conflict (provider, event_id) do nothing
      returning provider, event_id
    ), ledger as (
      update deliveries d set status = c.status,
        complained_at = case when c.complained then coalesce(d.complained_at, now()) else d.complained_at end,
        smtp_reply = coalesce(c.detail, d.smtp_reply), updated_at = now()
      from unnest(
        ${ch.map((c) => c.deploymentId)}::text[], ${ch.map((c) => c.seq)}::int[],
        ${ch.map((c) => c.status)}::text[], ${ch.map((c) => c.complained)}::bool[],
        ${ch.map((c) => c.detail) as string[]}::text[]) as c(deployment_id, seq, status, complained, detail)
      where d.deployment_id = c.deployment_id and d.seq = c.seq
      returning 1
    ), deployment_books as (
      update deployments t set sent_count = t.sent_count + v.sent, bounced_count = t.bounced_count + v.bounced,
        unknown_count = t.unknown_count + v.unknown, complaint_count = t.complaint_count + v.complaints, feedback_at = now()
      from unnest(${ids}::text[], ${d.map((x) => x.sent)}::int[], ${d.map((x) => x.bounced)}::int[],
        ${d.map((x) => x.unknown)}::int[], ${d.map((x) => x.complaints)}::int[]) as v(id, sent, bounced, unknown, complaints)
      where t.id = v.id
      returning 1
    ), batch_books as (
      update batches t set sent_count = t.sent_count + v.sent, bounced_count = t.bounced_count + v.bounced, unknown_count = t.unknown_count + v.unknown, updated_at = now()
      from unnest(${batchIds}::text[], ${b.map((x) => x.sent)}::int[], ${b.map((x) => x.bounced)}::int[],
        ${b.map((x) => x.unknown)}::int[]) as v(id, sent, bounced, unknown)
      where t.id = v.id
      returning 1
    )
    select provider, event_id from inserted`;
  return new Set(rows.map((r) => `${r.provider}\n${r.event_id}`));
}

export async function setDispositions(sql: SqlExecutor, ids: number[], dispositions: Disposition[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`
    update provider_events p set disposition = v.disposition
    from unnest(${ids}::bigint[], ${dispositions}::text[]) as v(id, disposition)
    where p.id = v.id`;
}

/** Orphans that name one of our deliveries whose ledger row may have settled since. */
export async function orphansToRetry(sql: SqlExecutor, limit: number) {
  return sql<{ id: string; payload: Record<string, unknown> }[]>`
    select p.id, p.payload from provider_events p
    join deliveries d on d.deployment_id = p.deployment_id and d.seq = p.seq
    where p.disposition = 'orphan' and p.deployment_id is not null and p.received_at > now() - interval '7 days'
      and d.status <> ${sqlValue(sql, DELIVERY.claimed)}
    order by p.id limit ${limit}`;
}
