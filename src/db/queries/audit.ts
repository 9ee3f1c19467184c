import { idKind } from '../../lib/ids.js';
import type { Executor, SqlExecutor } from '../client.js';
import { auditLog } from '../schema/index.js';

/**
 * The audit log: what was done (written in the transaction that did it, with the request key
 * that makes a retry find the first outcome) and every refusal, from Slack's gate and from the
 * services alike, filed under the kind of its target.
 */
export type NewAuditEntry = typeof auditLog.$inferInsert;

export async function recordAudit(db: Executor, entry: NewAuditEntry): Promise<void> {
  await db.insert(auditLog).values(entry);
}

/** recordAudit on the raw client, for a transaction of it (the cancel's); the outcome is `ok`. */
export async function recordDone(
  sql: SqlExecutor,
  entry: { actor: string; action: string; targetType: string; targetId: string; reason: string | null; details: Record<string, unknown>; requestKey: string | null },
): Promise<void> {
  await sql`
    insert into audit_log (actor, action, target_type, target_id, outcome, reason, details, request_key)
    values (${entry.actor}, ${entry.action}, ${entry.targetType}, ${entry.targetId}, 'ok', ${entry.reason}, ${JSON.stringify(entry.details)}::jsonb, ${entry.requestKey})`;
}

/** The audit row of a request key already seen: a retried request answers with the first one's outcome. */
export async function auditByRequestKey(sql: SqlExecutor, requestKey: string) {
  const [row] = await sql<{ details: Record<string, unknown> }[]>`select details from audit_log where request_key = ${requestKey}`;
  return row;
}

export interface RefusalEntry {
  actor: string;
  /** The Slack team the request came from, when it came from Slack. */
  team?: string | null;
  action: string;
  /** cmp_…, dep_…, bat_…, rly_…; anything else is filed as `unknown`. */
  target: string | null;
  why: string;
  /** Where the request came in (`slack`), kept in the details. */
  via?: string;
}

export async function recordRefusal(sql: SqlExecutor, entry: RefusalEntry): Promise<void> {
  const targetType = entry.target === null ? null : (idKind(entry.target) ?? 'unknown');
  const details = entry.via ? { via: entry.via } : {};
  await sql`
    insert into audit_log (actor, actor_team, action, target_type, target_id, outcome, reason, details)
    values (${entry.actor}, ${entry.team ?? null}, ${entry.action}, ${targetType}, ${entry.target}, 'refused', ${entry.why}, ${JSON.stringify(details)}::jsonb)`;
}
