import { and, eq, isNull, or, sql } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { campaigns } from '../schema/index.js';

export type CampaignRow = typeof campaigns.$inferSelect;
export type NewCampaign = typeof campaigns.$inferInsert;

export async function insertCampaign(db: Executor, row: NewCampaign): Promise<CampaignRow> {
  const [inserted] = await db.insert(campaigns).values(row).returning();
  return inserted!;
}

export async function findCampaign(db: Executor, id: string): Promise<CampaignRow | undefined> {
  const [row] = await db.select().from(campaigns).where(eq(campaigns.id, id));
  return row;
}

export async function findCampaignsByName(db: Executor, name: string, limit = 5): Promise<CampaignRow[]> {
  return db
    .select()
    .from(campaigns)
    .where(sql`lower(${campaigns.name}) = lower(${name})`)
    .orderBy(sql`${campaigns.createdAt} desc`)
    .limit(limit);
}

/** Takes the lock unless another user holds it; returns the row as it is afterwards. */
export async function acquireCampaignLock(db: Executor, id: string, actor: string, at: Date) {
  const [row] = await db
    .update(campaigns)
    .set({ lockedBy: actor, lockedAt: at, updatedAt: at })
    .where(and(eq(campaigns.id, id), or(isNull(campaigns.lockedBy), eq(campaigns.lockedBy, actor))))
    .returning();
  return row;
}

export async function releaseCampaignLock(db: Executor, id: string, at: Date) {
  const [row] = await db
    .update(campaigns)
    .set({ lockedBy: null, lockedAt: null, updatedAt: at })
    .where(eq(campaigns.id, id))
    .returning();
  return row;
}

export async function setCampaignFieldNames(db: Executor, id: string, fieldNames: string[]): Promise<void> {
  await db.update(campaigns).set({ fieldNames }).where(eq(campaigns.id, id));
}
