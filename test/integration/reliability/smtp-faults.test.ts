import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { createCampaignOrThrow, csv } from '../../support/builders.js';
import { checkLedger } from '../../support/checker.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, startWorker, testConfig, waitFor } from '../../support/sending.js';

/**
 * SMTP faults injected per recipient and per connection; the final per-class counts equal what
 * was injected: 550 at RCPT → bounced; 451 at RCPT (every attempt) → failed after the retries;
 * connection closed after DATA → unknown, one copy, never resent; 421 on connect → retried, sent;
 * a server that never answers RCPT → given up after SMTP_TIMEOUT_SECONDS each attempt, failed;
 * one that never answers the end of DATA (it has the message) → unknown, one copy, never resent.
 */
let db: TestDatabase;
let sink: SmtpSink;
let refusedConnections = 0;
beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink({
    faultFor: (rcpt) =>
      rcpt.startsWith('hard') ? { rejectRcpt: { code: 550, message: '5.1.1 no such user' } }
        : rcpt.startsWith('busy') ? { rejectRcpt: { code: 451, message: '4.3.0 try again later' } }
          : rcpt.startsWith('drop') ? { closeAfterData: true }
            : rcpt.startsWith('mute') ? { hang: 'rcpt' }
              : rcpt.startsWith('stall') ? { hang: 'data' }
                : undefined,
    // The first three connections are turned away at the greeting.
    connectFault: () => (refusedConnections < 3 ? (refusedConnections++, 421) : undefined),
  });
});
afterAll(async () => {
  await sink.close();
  await db.drop();
});

describe('SMTP faults', () => {
  it('every class ends where it should, and the counts equal what was injected', async () => {
    const injected = { hard: 12, busy: 6, drop: 5, mute: 3, stall: 3 };
    const lines = ['email,first_name'];
    for (const [kind, n] of Object.entries(injected)) for (let i = 0; i < n; i++) lines.push(`${kind}${i}@faults.example,${kind}`);
    for (let i = 0; i < 171; i++) lines.push(`fine${i}@faults.example,fine`);
    const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url, SEND_CONCURRENCY: '4', SMTP_TIMEOUT_SECONDS: '1' }));
    try {
      const { deploymentIds } = await createCampaignOrThrow(db, { csv: csv(lines) });
      const id = deploymentIds[0]!;
      await waitFor(async () => (await deploymentRow(db, id)).status === 'completed', { what: 'completion', timeoutMs: 60_000 });
      const check = await checkLedger(db, id, sink);
      expect(check.byStatus).toEqual({ sent: 171, bounced: injected.hard, failed: injected.busy + injected.mute, unknown: injected.drop + injected.stall });
      expect(check).toMatchObject({ total: 200, duplicates: 0, lost: 0, phantom: 0, booksMatch: true });
      expect(refusedConnections).toBe(3);
      // A message whose connection dropped after DATA reached the server once and was never resent.
      const dropped = await db.sql<{ seq: number; status: string }[]>`select seq, status from deliveries d where deployment_id = ${id} and (email like 'drop%' or email like 'stall%')`;
      expect(dropped.map((r) => [r.status, sink.byDelivery.get(`${id}.${r.seq}`)])).toEqual(Array(injected.drop + injected.stall).fill(['unknown', 1]));
      // A server that never answered RCPT got nothing, on any of the three attempts.
      const muted = await db.sql<{ seq: number; status: string }[]>`select seq, status from deliveries d where deployment_id = ${id} and email like 'mute%'`;
      expect(muted.map((r) => [r.status, sink.byDelivery.get(`${id}.${r.seq}`) ?? 0])).toEqual(Array(injected.mute).fill(['failed', 0]));
      const [busy] = await db.sql`select attempts, smtp_code from deliveries where deployment_id = ${id} and email = 'busy0@faults.example'`;
      expect(busy).toEqual({ attempts: 1, smtp_code: 451 });
    } finally {
      await worker.stop();
    }
  }, 90_000);
});
