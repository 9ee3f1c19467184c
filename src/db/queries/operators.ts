import { asc, eq } from 'drizzle-orm';
import type { Executor, SqlExecutor } from '../client.js';
import { operators } from '../schema/index.js';

/**
 * The operators table: grants and revocations (CLI), and the role read on every action (Slack's
 * gate and the control service), in plain SQL there since it is on every request's path.
 */

export type OperatorRow = typeof operators.$inferSelect;
export type Role = OperatorRow['role'];

export async function upsertOperator(
  db: Executor,
  row: { userId: string; role: Role; teamId?: string | null; grantedBy: string },
  at: Date,
): Promise<OperatorRow> {
  const [saved] = await db
    .insert(operators)
    .values({ ...row, grantedAt: at, updatedAt: at })
    .onConflictDoUpdate({
      target: operators.userId,
      set: { role: row.role, grantedBy: row.grantedBy, updatedAt: at },
    })
    .returning();
  return saved!;
}

export async function deleteOperator(db: Executor, userId: string): Promise<OperatorRow | undefined> {
  const [deleted] = await db.delete(operators).where(eq(operators.userId, userId)).returning();
  return deleted;
}

export async function findOperator(db: Executor, userId: string): Promise<OperatorRow | undefined> {
  const [row] = await db.select().from(operators).where(eq(operators.userId, userId));
  return row;
}

export async function listOperators(db: Executor): Promise<OperatorRow[]> {
  return db.select().from(operators).orderBy(asc(operators.userId));
}

/** The operator's role; on a transaction's own connection when given one (a second connection per cancel could exhaust the pool). */
export async function operatorRole(sql: SqlExecutor, userId: string): Promise<string | undefined> {
  const [row] = await sql<{ role: string }[]>`select role from operators where user_id = ${userId}`;
  return row?.role;
}
