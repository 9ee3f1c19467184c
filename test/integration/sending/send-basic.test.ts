import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, ledgerCounts, startWorker, testConfig, waitFor } from '../../support/sending.js';

let db: TestDatabase;
let sink: SmtpSink;
beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink({ faultFor: (rcpt) => (rcpt.startsWith('bounce') ? { rejectRcpt: { code: 550 } } : undefined) });
});
afterAll(async () => {
  await sink.close();
  await db.drop();
});

describe('send pipeline in one worker', () => {
  it('prefetches, starts the batch, sends everyone exactly once and closes the books', async () => {
    const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url }));
    try {
      const csv = audienceCsv(500, { columns: ['email', 'first_name'] }).replace('user7@example.com', 'bounce7@example.com');
      const created = await createCampaignOrThrow(db, { csv });
      const deploymentId = created.deploymentIds[0]!;
      await waitFor(async () => (await deploymentRow(db, deploymentId)).status === 'completed', { what: 'completion' });
      const row = await deploymentRow(db, deploymentId);
      expect(row).toMatchObject({ total_count: 500, sent_count: 499, bounced_count: 1, in_flight_count: 0, failed_count: 0, unknown_count: 0 });
      expect(await ledgerCounts(db, deploymentId)).toEqual({ sent: 499, bounced: 1 });
      const mine = [...sink.byDelivery.entries()].filter(([tag]) => tag.startsWith(deploymentId));
      expect(mine).toHaveLength(499);
      expect(mine.every(([, n]) => n === 1)).toBe(true);
      const [campaign] = await db.sql`select status from campaigns where id = ${created.campaignId}`;
      expect(campaign!.status).toBe('completed');
      const [batch] = await db.sql`select status, sent_count, bounced_count from batches where deployment_id = ${deploymentId}`;
      expect(batch).toMatchObject({ status: 'completed', sent_count: 499, bounced_count: 1 });
    } finally {
      await worker.stop();
    }
  });
});
