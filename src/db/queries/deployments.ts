import { and, asc, eq, gte, inArray, sql } from 'drizzle-orm';
import { ACTIVE_DEPLOYMENT_STATUSES } from '../../domain/lifecycle.js';
import type { Executor, SqlExecutor } from '../client.js';
import { campaigns, deploymentSamples, deployments } from '../schema/index.js';

export type DeploymentRow = typeof deployments.$inferSelect;
export type NewDeployment = typeof deployments.$inferInsert;

export async function insertDeployments(db: Executor, rows: NewDeployment[]): Promise<DeploymentRow[]> {
  return db.insert(deployments).values(rows).returning();
}

export async function findDeployment(db: Executor, id: string): Promise<DeploymentRow | undefined> {
  const [row] = await db.select().from(deployments).where(eq(deployments.id, id));
  return row;
}

export async function findDeploymentsByName(db: Executor, name: string, limit = 5): Promise<DeploymentRow[]> {
  return db
    .select()
    .from(deployments)
    .where(sql`lower(${deployments.name}) = lower(${name})`)
    .orderBy(sql`${deployments.createdAt} desc`)
    .limit(limit);
}

export async function listDeploymentsOfCampaign(db: Executor, campaignId: string): Promise<DeploymentRow[]> {
  return db.select().from(deployments).where(eq(deployments.campaignId, campaignId)).orderBy(asc(deployments.position));
}

export async function setDeploymentTotal(db: Executor, id: string, total: number): Promise<void> {
  await db.update(deployments).set({ totalCount: total }).where(eq(deployments.id, id));
}

/** The activity monitor: live deployments with their campaign, served by the partial index. */
export async function listActiveDeployments(db: Executor, limit = 100) {
  return db
    .select({ deployment: deployments, campaign: campaigns })
    .from(deployments)
    .innerJoin(campaigns, eq(campaigns.id, deployments.campaignId))
    .where(inArray(deployments.status, [...ACTIVE_DEPLOYMENT_STATUSES]))
    .orderBy(asc(deployments.sendAt), asc(deployments.id))
    .limit(limit);
}

/**
 * Each deployment's oldest counter snapshot of the last `seconds` (the monitor takes one about
 * every second while it sends): its own hand-off rate is what was settled since, over the time since.
 */
export async function oldestRecentSamples(db: Executor, ids: string[], seconds: number) {
  if (ids.length === 0) return [];
  return db
    .selectDistinctOn([deploymentSamples.deploymentId], { deploymentId: deploymentSamples.deploymentId, attempted: deploymentSamples.attempted, takenAt: deploymentSamples.takenAt })
    .from(deploymentSamples)
    .where(and(inArray(deploymentSamples.deploymentId, ids), gte(deploymentSamples.takenAt, sql`now() - make_interval(secs => ${seconds})`)))
    .orderBy(deploymentSamples.deploymentId, asc(deploymentSamples.takenAt));
}

/** Each deployment's status and, if stopped, when (ms since the epoch): what the stop watcher reads. */
export async function statusesOf(sql: SqlExecutor, deploymentIds: string[]) {
  if (deploymentIds.length === 0) return [];
  return sql<{ id: string; status: string; stopped_at: string | null }[]>`
    select id, status, (extract(epoch from coalesce(cancelled_at, paused_at)) * 1000)::bigint as stopped_at
    from deployments where id = any(${deploymentIds}::text[])`;
}

export async function deploymentStatus(sql: SqlExecutor, deploymentId: string): Promise<string | undefined> {
  const [row] = await sql<{ status: string }[]>`select status from deployments where id = ${deploymentId}`;
  return row?.status;
}
