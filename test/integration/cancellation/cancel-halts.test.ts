import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { createAccessService } from '../../../src/services/access.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, ledgerCounts, sinkCopies, startWorker, testConfig, waitFor } from '../../support/sending.js';

let db: TestDatabase;
let sink: SmtpSink;
beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
  await createAccessService({ db: db.db, clock: () => new Date() }).grant('U_ONCALL', 'responder', 'test');
});
afterAll(async () => {
  await sink.close();
  await db.drop();
});

describe('a cancel against a sending worker', () => {
  it('halts at once: hand-offs after the commit stay within the lanes, the rest is never sent', async () => {
    const handOffs: number[] = [];
    const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url, SEND_RATE_PER_SECOND: '400', SEND_CONCURRENCY: '4' }), { onHandOff: () => handOffs.push(Date.now()) });
    try {
      const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(2000, { domain: () => 'halt.example' }) });
      const deploymentId = deploymentIds[0]!;
      await waitFor(async () => Number((await deploymentRow(db, deploymentId)).sent_count) >= 300, { what: 'sending under way' });
      const before = Date.now();
      const outcome = await worker.cancellation.cancel({ target: deploymentId, actor: 'U_ONCALL', reason: 'bounce storm' });
      const after = Date.now();
      expect(outcome.outcome).toBe('cancelled');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(handOffs.filter((t) => t > after).length).toBeLessThanOrEqual(4);
      expect(handOffs.filter((t) => t > before + 1000)).toEqual([]);

      await waitFor(async () => (await ledgerCounts(db, deploymentId)).pending === undefined, { what: 'pending rows marked cancelled' });
      const row = await deploymentRow(db, deploymentId);
      expect(row).toMatchObject({ status: 'cancelled', cancelled_by: 'U_ONCALL', in_flight_count: 0 });
      const ledger = await ledgerCounts(db, deploymentId);
      expect(ledger.claimed).toBeUndefined();
      expect(Number(row.sent_count) + Number(row.cancelled_count)).toBe(2000);
      expect(ledger.cancelled).toBe(row.cancelled_count);
      const copies = sinkCopies(sink.byDelivery, deploymentId);
      expect(copies.size).toBe(Number(row.sent_count));
      // the second reply: the settled counts, once nothing is in flight (no alert thread here: a post to the alert channel)
      const [settledReport] = await db.sql`select kind, payload from slack_outbox where dedupe_key = ${`cancel-settled:${deploymentId}`}`;
      expect(settledReport).toMatchObject({ kind: 'post', payload: { sent: Number(row.sent_count), neverSent: Number(row.cancelled_count), total: 2000 } });
      // status shows it among the cancelled, not the active
      const active = await db.sql`select id from deployments where status in ('scheduled', 'prefetching', 'prefetched', 'sending', 'paused') and id = ${deploymentId}`;
      expect(active).toHaveLength(0);
    } finally {
      await worker.stop();
    }
  }, 60_000);

  it('leaves no send for a cancelled scheduled deployment, and a cancelled batch alone while the others send', async () => {
    const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url, PREFETCH_LEAD_SECONDS: '60' }));
    try {
      const scheduled = await createCampaignOrThrow(db, { csv: audienceCsv(20, { domain: () => 'never.example' }), sendAt: new Date(Date.now() + 1500) });
      expect((await worker.cancellation.cancel({ target: scheduled.deploymentIds[0]!, actor: 'U_ONCALL' })).outcome).toBe('cancelled');

      const batched = await createCampaignOrThrow(db, { csv: audienceCsv(30, { domain: () => 'batches.example' }), sendAt: new Date(Date.now() + 1500), batches: 3, batchIntervalMs: 1000 });
      const deploymentId = batched.deploymentIds[0]!;
      const [, second] = await db.sql<{ id: string }[]>`select id from batches where deployment_id = ${deploymentId} order by position`;
      expect((await worker.cancellation.cancel({ target: second!.id, actor: 'U_ONCALL' })).outcome).toBe('cancelled');

      await waitFor(async () => (await deploymentRow(db, deploymentId)).status === 'completed', { what: 'the batched deployment', timeoutMs: 20_000 });
      const batches = await db.sql`select position, status, sent_count, cancelled_count from batches where deployment_id = ${deploymentId} order by position`;
      expect(batches.map((b) => [b.status, b.sent_count, b.cancelled_count])).toEqual([
        ['completed', 10, 0],
        ['cancelled', 0, 10],
        ['completed', 10, 0],
      ]);
      expect(sinkCopies(sink.byDelivery, deploymentId).size).toBe(20);
      expect(sinkCopies(sink.byDelivery, scheduled.deploymentIds[0]!).size).toBe(0);
      expect((await deploymentRow(db, scheduled.deploymentIds[0]!)).status).toBe('cancelled');
    } finally {
      await worker.stop();
    }
  }, 60_000);

  it('stops a prefetch in progress', async () => {
    const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url, PREFETCH_LEAD_SECONDS: '3600' }));
    try {
      const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(60_000, { domain: () => 'prefetch.example' }), sendAt: new Date(Date.now() + 3_600_000) });
      const deploymentId = deploymentIds[0]!;
      await waitFor(async () => (await deploymentRow(db, deploymentId)).status === 'prefetching', { what: 'prefetching', everyMs: 5 });
      expect((await worker.cancellation.cancel({ target: deploymentId, actor: 'U_ONCALL' })).outcome).toBe('cancelled');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const row = await deploymentRow(db, deploymentId);
      expect(row.status).toBe('cancelled');
      expect(Number(row.prefetched_count)).toBeLessThan(60_000);
      expect(sinkCopies(sink.byDelivery, deploymentId).size).toBe(0);
    } finally {
      await worker.stop();
    }
  }, 60_000);
});
