import { idKind } from '../../lib/ids.js';
import type { Executor, SqlExecutor } from '../client.js';
import { auditLog } from '../schema/index.js';

/**
 * The audit log's writes: what was done (in the transaction that did it) and every refusal, from
 * Slack's gate and from the services alike, filed under the kind of its target.
 */
export type NewAuditEntry = typeof auditLog.$inferInsert;

export async function recordAudit(db: Executor, entry: NewAuditEntry): Promise<void> {
  await db.insert(auditLog).values(entry);
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
