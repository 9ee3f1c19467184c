import type { Executor } from '../client.js';
import { auditLog } from '../schema/index.js';

export type NewAuditEntry = typeof auditLog.$inferInsert;

export async function recordAudit(db: Executor, entry: NewAuditEntry): Promise<void> {
  await db.insert(auditLog).values(entry);
}
