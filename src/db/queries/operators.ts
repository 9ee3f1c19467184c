import { asc, eq } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { operators } from '../schema/index.js';

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
