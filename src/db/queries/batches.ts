import { asc, inArray } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { batches } from '../schema/index.js';

export type BatchRow = typeof batches.$inferSelect;
export type NewBatch = typeof batches.$inferInsert;

export async function insertBatches(db: Executor, rows: NewBatch[]): Promise<BatchRow[]> {
  if (rows.length === 0) return [];
  return db.insert(batches).values(rows).returning();
}

export async function listBatchesOfDeployments(db: Executor, deploymentIds: string[]): Promise<BatchRow[]> {
  if (deploymentIds.length === 0) return [];
  return db
    .select()
    .from(batches)
    .where(inArray(batches.deploymentId, deploymentIds))
    .orderBy(asc(batches.deploymentId), asc(batches.position));
}
