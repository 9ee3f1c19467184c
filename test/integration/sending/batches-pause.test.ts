import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, ledgerCounts, sinkCopies, startWorker, testConfig, waitFor } from '../../support/sending.js';

let db: TestDatabase;
let sink: SmtpSink;
beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
});
afterAll(async () => {
  await sink.close();
  await db.drop();
});

describe('batches', () => {
  it('sends 3 batches 2 s apart, each with its own status and counts', async () => {
    // Prefetched ahead of the send time, as in production, so batch 1 starts on time too.
    const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url, PREFETCH_LEAD_SECONDS: '60' }));
    try {
      const sendAt = new Date(Date.now() + 1500);
      const created = await createCampaignOrThrow(db, { csv: audienceCsv(30), batches: 3, batchIntervalMs: 2000, sendAt });
      const deploymentId = created.deploymentIds[0]!;
      const batches = () => db.sql<{ position: number; status: string; sent_count: number; started_at: string | null; send_at: string }[]>`
        select position, status, sent_count, started_at, send_at from batches where deployment_id = ${deploymentId} order by position`;

      // While the first batch is done, the later ones are still scheduled, untouched.
      await waitFor(async () => (await batches())[0]!.status === 'completed', { what: 'batch 1' });
      const early = await batches();
      expect(early.map((b) => [b.status, b.sent_count])).toEqual([
        ['completed', 10],
        ['scheduled', 0],
        ['scheduled', 0],
      ]);
      expect((await deploymentRow(db, deploymentId)).status).toBe('sending');

      await waitFor(async () => (await deploymentRow(db, deploymentId)).status === 'completed', { what: 'the deployment', timeoutMs: 20_000 });
      const done = await batches();
      expect(done.map((b) => [b.status, b.sent_count])).toEqual([
        ['completed', 10],
        ['completed', 10],
        ['completed', 10],
      ]);
      const due = done.map((b) => new Date(b.send_at).getTime());
      expect([due[1]! - due[0]!, due[2]! - due[1]!]).toEqual([2000, 2000]);
      for (const [i, b] of done.entries()) {
        const lateness = new Date(b.started_at!).getTime() - due[i]!;
        expect(lateness).toBeGreaterThanOrEqual(-50);
        expect(lateness).toBeLessThan(1000);
      }
    } finally {
      await worker.stop();
    }
  }, 60_000);

  it('tracks both deployments of a multi campaign, and the campaign follows them', async () => {
    const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url }));
    try {
      const created = await createCampaignOrThrow(db, { kind: 'multi', deployments: 2, csv: audienceCsv(200, { domain: () => 'multi.example' }) });
      for (const id of created.deploymentIds) {
        await waitFor(async () => (await deploymentRow(db, id)).status === 'completed', { what: `deployment ${id}` });
        expect(await deploymentRow(db, id)).toMatchObject({ total_count: 100, sent_count: 100 });
      }
      const [campaign] = await db.sql`select status from campaigns where id = ${created.campaignId}`;
      expect(campaign!.status).toBe('completed');
    } finally {
      await worker.stop();
    }
  }, 60_000);
});

describe('pause and resume', () => {
  it('hands nothing over later than 100 ms after the pause commits, and resume finishes without duplicates', async () => {
    const handOffs: number[] = [];
    const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url, SEND_RATE_PER_SECOND: '300', SEND_CONCURRENCY: '4' }), {
      onHandOff: () => handOffs.push(Date.now()),
    });
    try {
      const created = await createCampaignOrThrow(db, { csv: audienceCsv(1500, { domain: () => 'pause.example' }) });
      const deploymentId = created.deploymentIds[0]!;
      await waitFor(async () => Number((await deploymentRow(db, deploymentId)).sent_count) >= 200, { what: 'sending under way' });

      const beforePause = Date.now();
      const paused = await worker.control.pause({ deploymentId }, 'U_ONCALL');
      expect(paused.ok).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const late = handOffs.filter((t) => t > beforePause + 100);
      expect(late).toEqual([]);
      const atPause = await deploymentRow(db, deploymentId);
      expect(atPause).toMatchObject({ status: 'paused', paused_by: 'U_ONCALL', in_flight_count: 0 });
      expect(Number(atPause.sent_count)).toBeLessThan(1500);
      expect((await ledgerCounts(db, deploymentId)).claimed).toBeUndefined();

      // Paused means paused: nothing moves for a while.
      const sentWhilePaused = Number(atPause.sent_count);
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(Number((await deploymentRow(db, deploymentId)).sent_count)).toBe(sentWhilePaused);

      const resumed = await worker.control.resume({ deploymentId }, 'U_ONCALL');
      expect(resumed.ok).toBe(true);
      await waitFor(async () => (await deploymentRow(db, deploymentId)).status === 'completed', { what: 'completion after resume', timeoutMs: 30_000 });
      const copies = sinkCopies(sink.byDelivery, deploymentId);
      expect(copies.size).toBe(1500);
      expect([...copies.values()].every((n) => n === 1)).toBe(true);
      expect(await ledgerCounts(db, deploymentId)).toEqual({ sent: 1500 });
    } finally {
      await worker.stop();
    }
  }, 60_000);

  it('refuses to pause what cannot be paused, saying why', async () => {
    const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url }));
    try {
      const created = await createCampaignOrThrow(db, { csv: audienceCsv(5, { domain: () => 'done.example' }) });
      const deploymentId = created.deploymentIds[0]!;
      await waitFor(async () => (await deploymentRow(db, deploymentId)).status === 'completed', { what: 'completion' });
      const refusal = await worker.control.pause({ deploymentId }, 'U1');
      expect(refusal).toMatchObject({ ok: false, code: 'already_completed' });
      expect(await worker.control.resume({ deploymentId }, 'U1')).toMatchObject({ ok: false, code: 'already_completed' });
    } finally {
      await worker.stop();
    }
  }, 30_000);
});
