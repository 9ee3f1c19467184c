import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeOutcome } from '../../../src/domain/cancel-outcome.js';
import { createAccessService } from '../../../src/services/access.js';
import { createControlService } from '../../../src/services/control.js';
import { createLockService } from '../../../src/services/campaigns/locks.js';
import { createPauseResume } from '../../../src/services/sending/pause-resume.js';
import type { createStopAnnouncer } from '../../../src/queue/stop-signal.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { testLogger } from '../../support/sending.js';

let db: TestDatabase;
let service: ReturnType<typeof createControlService>;
const announced: { ids: string[]; state: string }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  const announcer = { announce: async (ids: string[], state: string) => void announced.push({ ids, state }) };
  const pauseResume = createPauseResume({ database: db, announcer: announcer as ReturnType<typeof createStopAnnouncer> });
  service = createControlService({ database: db, announcer, pauseResume, logger: testLogger });
  const access = createAccessService({ db: db.db, clock: () => new Date() });
  for (let i = 0; i < 20; i++) await access.grant(`U_RESP${i}`, 'responder', 'test');
  await access.grant('U_ADMIN', 'admin', 'test');
  await access.grant('U_VIEW', 'viewer', 'test');
});
afterAll(async () => {
  await db.drop();
});

const later = () => new Date(Date.now() + 3_600_000);

describe('cancellation service', () => {
  it('lets exactly one of 20 concurrent cancels win; the others are told who won', async () => {
    const { deploymentIds, campaignId } = await createCampaignOrThrow(db, { csv: audienceCsv(50), sendAt: later() });
    const target = deploymentIds[0]!;
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => service.cancel({ target, actor: `U_RESP${i}`, reason: 'bounce storm' })));
    const winners = outcomes.filter((o) => o.outcome === 'cancelled');
    expect(winners).toHaveLength(1);
    const winner = (await db.sql`select cancelled_by from deployments where id = ${target}`)[0]!.cancelled_by as string;
    for (const loser of outcomes.filter((o) => o.outcome !== 'cancelled')) {
      expect(loser).toMatchObject({ outcome: 'already_cancelled', by: winner });
      expect(describeOutcome(loser)).toContain(winner);
    }
    expect(await db.sql`select count(*)::int as n from audit_log where action = 'cancel' and outcome = 'ok' and target_id = ${target}`).toEqual([{ n: 1 }]);
    expect(await db.sql`select count(*)::int as n from slack_outbox where dedupe_key = ${`cancel:${target}`}`).toEqual([{ n: 1 }]);
    const [campaign] = await db.sql`select status, cancelled_by from campaigns where id = ${campaignId}`;
    expect(campaign).toEqual({ status: 'cancelled', cancelled_by: winner });
    expect(winners[0]).toMatchObject({ counts: { contacted: 0, inFlight: 0, neverSent: 50 } });
    expect(announced.some((a) => a.state === 'cancelled' && a.ids.includes(target))).toBe(true);
  });

  it('refuses viewers and strangers, says why, audits it, and changes nothing', async () => {
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(5), sendAt: later() });
    const target = deploymentIds[0]!;
    expect(await service.cancel({ target, actor: 'U_VIEW' })).toMatchObject({ outcome: 'not_permitted', why: expect.stringMatching(/viewer/) });
    expect(await service.cancel({ target, actor: 'U_NOBODY' })).toMatchObject({ outcome: 'not_permitted', why: expect.stringMatching(/no access/) });
    expect((await db.sql`select status from deployments where id = ${target}`)[0]!.status).toBe('scheduled');
    expect(await db.sql`select count(*)::int as n from audit_log where target_id = ${target} and outcome = 'refused'`).toEqual([{ n: 2 }]);
  });

  it('cascades a multi campaign to every deployment, overriding (and recording) an edit lock', async () => {
    const { campaignId, deploymentIds } = await createCampaignOrThrow(db, { kind: 'multi', deployments: 3, csv: audienceCsv(30), sendAt: later(), batches: 2 });
    await createLockService({ db: db.db, clock: () => new Date() }).lock(campaignId, 'U_EDITOR');
    const outcome = await service.cancel({ target: campaignId, actor: 'U_ADMIN', reason: 'wrong list' });
    expect(outcome).toMatchObject({ outcome: 'cancelled', deploymentIds: expect.arrayContaining(deploymentIds), lockOverride: { holder: 'U_EDITOR' } });
    expect(describeOutcome(outcome)).toMatch(/cannot be undone.*lock held by U_EDITOR was overridden/);
    const rows = await db.sql`select status, cancelled_count from deployments where campaign_id = ${campaignId}`;
    expect(rows.every((r) => r.status === 'cancelled' && r.cancelled_count === 10)).toBe(true);
    expect((await db.sql`select distinct status from batches where deployment_id = any(${deploymentIds})`).map((r) => r.status)).toEqual(['cancelled']);
    const [audit] = await db.sql`select details from audit_log where action = 'cancel' and target_id = ${campaignId}`;
    expect((audit!.details as { lockOverride: { holder: string } }).lockOverride.holder).toBe('U_EDITOR');
    // A deployment of a multi campaign is cancelled with its campaign, not alone.
    const other = await createCampaignOrThrow(db, { kind: 'multi', deployments: 2, csv: audienceCsv(4), sendAt: later() });
    expect(await service.cancel({ target: other.deploymentIds[0]!, actor: 'U_ADMIN' })).toMatchObject({ outcome: 'not_allowed' });
  });

  it('keeps cancelled final: resume and a second cancel are refused with the reason', async () => {
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(5), sendAt: later() });
    const target = deploymentIds[0]!;
    await service.cancel({ target, actor: 'U_RESP1' });
    expect(await service.cancel({ target, actor: 'U_RESP2' })).toMatchObject({ outcome: 'already_cancelled', by: 'U_RESP1' });
    expect(await service.resume({ target, actor: 'U_RESP2' })).toMatchObject({ outcome: 'already_cancelled', by: 'U_RESP1' });
    expect(await service.pause({ target, actor: 'U_RESP2' })).toMatchObject({ outcome: 'already_cancelled' });
  });

  it('answers a retried request (same request key) with the first outcome', async () => {
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(5), sendAt: later() });
    const target = deploymentIds[0]!;
    const first = await service.cancel({ target, actor: 'U_RESP3', requestKey: 'slack:action:123' });
    const again = await service.cancel({ target, actor: 'U_RESP3', requestKey: 'slack:action:123' });
    expect(first.outcome).toBe('cancelled');
    expect(again).toEqual(first);
  });

  it('tells a completed deployment is final, with its counts; and one whose rest is all in flight completes', async () => {
    const done = await createCampaignOrThrow(db, { csv: audienceCsv(5), sendAt: later() });
    await db.sql`update deployments set status = 'completed', sent_count = 5 where id = ${done.deploymentIds[0]!}`;
    expect(await service.cancel({ target: done.deploymentIds[0]!, actor: 'U_RESP1' })).toMatchObject({ outcome: 'already_completed', counts: { contacted: 5 } });

    const flying = await createCampaignOrThrow(db, { csv: audienceCsv(5), sendAt: later() });
    await db.sql`update deployments set status = 'sending', sent_count = 3, in_flight_count = 2 where id = ${flying.deploymentIds[0]!}`;
    const outcome = await service.cancel({ target: flying.deploymentIds[0]!, actor: 'U_RESP1' });
    expect(outcome).toMatchObject({ outcome: 'nothing_left', counts: { contacted: 3, inFlight: 2, neverSent: 0 } });
    expect((await db.sql`select status from deployments where id = ${flying.deploymentIds[0]!}`)[0]!.status).toBe('sending');
  });

  it('cancels a batch that has not started, alone; a started one is refused', async () => {
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(30), sendAt: later(), batches: 3 });
    const batches = await db.sql<{ id: string }[]>`select id from batches where deployment_id = ${deploymentIds[0]!} order by position`;
    expect(await service.cancel({ target: batches[2]!.id, actor: 'U_RESP1' })).toMatchObject({ outcome: 'cancelled', counts: { neverSent: 10 } });
    const rows = await db.sql`select position, status from batches where deployment_id = ${deploymentIds[0]!} order by position`;
    expect(rows.map((r) => r.status)).toEqual(['scheduled', 'scheduled', 'cancelled']);
    expect((await db.sql`select status, cancelled_count from deployments where id = ${deploymentIds[0]!}`)[0]).toEqual({ status: 'scheduled', cancelled_count: 10 });
    await db.sql`update batches set status = 'sending' where id = ${batches[0]!.id}`;
    expect(await service.cancel({ target: batches[0]!.id, actor: 'U_RESP1' })).toMatchObject({ outcome: 'not_allowed', why: expect.stringMatching(/cancel the deployment/) });
  });

  it('refuses unknown and malformed targets without touching the database', async () => {
    for (const target of ['dep_0000000000', "'; DROP TABLE deployments;--", 'cmp_zzzzzzzzzz', 'bat_0000000000']) {
      expect(await service.cancel({ target, actor: 'U_RESP1' })).toMatchObject({ outcome: 'not_found' });
    }
  });
});

describe('ledger marking after a cancel', () => {
  it('is finished by the worker sweep when the cancelling process died before it was done', async () => {
    const { createLeaseKeeper } = await import('../../../src/services/sending/leases.js');
    const { createPrefetchProcessor } = await import('../../../src/services/sending/prefetch-job.js');
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(25), sendAt: new Date() });
    const id = deploymentIds[0]!;
    await createPrefetchProcessor({ sql: db.sql, logger: testLogger })(id);
    // A cancel whose after-commit marking never ran: cancelled books, pending ledger rows.
    await db.sql`update deployments set status = 'cancelled', cancelled_by = 'U_GONE', cancelled_at = now() - interval '5 minutes', cancelled_count = 25 where id = ${id}`;
    await createLeaseKeeper({ database: db, workerId: 'sweeper', leaseSeconds: 5 }).sweep();
    expect(await db.sql`select status, count(*)::int as n from deliveries where deployment_id = ${id} group by status`).toEqual([{ status: 'cancelled', n: 25 }]);
    expect((await db.sql`select ledger_closed from deployments where id = ${id}`)[0]!.ledger_closed).toBe(true);
  });
});
