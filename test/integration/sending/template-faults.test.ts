import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, ledgerCounts, startWorker, testConfig, waitFor } from '../../support/sending.js';

/**
 * Issue 19, finding 2, on the real send path: `{{constructor}}` in a subject made every send throw
 * and left the deployment `sending` with nothing sent and nobody told. It renders empty now; and a
 * message that cannot be built all the same pauses its deployment with a post naming the cause.
 */
let db: TestDatabase;
let sink: SmtpSink;
let worker: Awaited<ReturnType<typeof startWorker>>;

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
  // A long lead: deployments are prefetched at once and sent when their batch's time is moved to now.
  worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url, PREFETCH_LEAD_SECONDS: '7200' }));
});
afterAll(async () => {
  await worker?.stop();
  await sink?.close();
  await db?.drop();
});

describe('templates on the send path', () => {
  it('T1: a deployment whose subject and body use {{constructor}} is sent to everyone', async () => {
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(20), subject: 'Hi {{first_name}}{{constructor}}', body: 'Hello {{constructor}}', sendAt: new Date(Date.now() + 1000) });
    const id = deploymentIds[0]!;
    await waitFor(async () => (await deploymentRow(db, id)).status === 'completed', { what: 'completion' });
    expect(await ledgerCounts(db, id)).toEqual({ sent: 20 });
  });

  it('T1: a message that cannot be built pauses its deployment, with a post to the alert channel naming the cause', async () => {
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(20), sendAt: new Date(Date.now() + 3600_000) });
    const id = deploymentIds[0]!;
    await waitFor(async () => (await deploymentRow(db, id)).status === 'prefetched', { what: 'prefetch' });
    // A stored row whose merge values cannot be read back.
    await db.sql`update deliveries set fields = '["cut short' where deployment_id = ${id} and seq = 7`;
    await db.sql`update batches set send_at = now() where deployment_id = ${id}`;

    const paused = await waitFor(async () => {
      const d = await deploymentRow(db, id);
      return d.status === 'paused' && d;
    }, { what: 'the fault pause' });
    expect(paused.paused_by).toBe('campaign-guard');
    const posts = await db.sql`select kind, payload from slack_outbox where payload->>'type' = 'deployment_fault'`;
    expect(posts).toEqual([{ kind: 'post', payload: { type: 'deployment_fault', deploymentId: id, deploymentName: 'Test campaign', campaignName: 'Test campaign', cause: expect.stringMatching(/^the message to recipient 7 cannot be built \(/) } }]);
    const [audit] = await db.sql`select actor, action, details->>'fault' as fault from audit_log where action = 'pause' and target_id = ${id}`;
    expect(audit).toMatchObject({ actor: 'campaign-guard', fault: expect.stringContaining('recipient 7') });
    // The row at fault was never claimed or handed over; nothing is left claimed.
    const [row] = await db.sql`select status from deliveries where deployment_id = ${id} and seq = 7`;
    expect(row!.status).toBe('pending');
    await waitFor(async () => (await deploymentRow(db, id)).in_flight_count === 0, { what: 'in-flight messages to settle' });
    expect((await ledgerCounts(db, id)).claimed).toBeUndefined();
  });
});
