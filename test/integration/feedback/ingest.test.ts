import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedbackEvent } from '../../../src/domain/feedback.js';
import { connectDatabase } from '../../../src/db/client.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { createFeedbackIngestor, type FeedbackIngestor } from '../../../src/services/feedback/ingest.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, ledgerCounts, startWorker, testConfig, testLogger, waitFor } from '../../support/sending.js';

let db: TestDatabase;
let sink: SmtpSink;
let ingestor: FeedbackIngestor;
let deploymentId: string;

const messageId = (seq: number) => `<cg.${deploymentId}.${seq}@example.com>`;
let counter = 0;
const event = (overrides: Partial<FeedbackEvent>): FeedbackEvent => ({
  provider: 'ses',
  eventId: `evt-${++counter}`,
  kind: 'bounce',
  bounceClass: 'hard',
  countsTowardRate: true,
  ...overrides,
});
const parsed = (...events: FeedbackEvent[]) => ({ events, quarantined: [] });
const books = async () => {
  const row = await deploymentRow(db, deploymentId);
  const [batch] = await db.sql`select sent_count, bounced_count, unknown_count from batches where deployment_id = ${deploymentId}`;
  return { sent: row.sent_count, bounced: row.bounced_count, unknown: row.unknown_count, complaints: row.complaint_count, batch };
};
const disposition = async (eventId: string) => (await db.sql`select disposition from provider_events where event_id = ${eventId}`)[0]?.disposition;

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink({ faultFor: (rcpt) => (rcpt.startsWith('user1@') ? { rejectRcpt: { code: 550 } } : undefined) });
  const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url }));
  try {
    const created = await createCampaignOrThrow(db, { csv: audienceCsv(100) });
    deploymentId = created.deploymentIds[0]!;
    await waitFor(async () => (await deploymentRow(db, deploymentId)).status === 'completed', { what: 'completion' });
  } finally {
    await worker.stop();
  }
  ingestor = createFeedbackIngestor({ database: db, logger: testLogger });
});
afterAll(async () => {
  await sink.close();
  await db.drop();
});

describe('feedback ingestion', () => {
  it('starts from a completed send: 99 sent, 1 bounced at RCPT', async () => {
    expect(await books()).toMatchObject({ sent: 99, bounced: 1, unknown: 0, complaints: 0 });
  });

  it('a hard bounce for a sent message moves it to bounced in the ledger and both books', async () => {
    const e = event({ messageId: messageId(2), detail: 'smtp; 550 5.1.1 user unknown' });
    const summary = await ingestor.ingest(parsed(e));
    expect(summary).toMatchObject({ received: 1, duplicates: 0, dispositions: { counted: 1 } });
    expect(await books()).toMatchObject({ sent: 98, bounced: 2, batch: { sent_count: 98, bounced_count: 2 } });
    const [row] = await db.sql`select status, smtp_reply from deliveries where deployment_id = ${deploymentId} and seq = 2`;
    expect(row).toEqual({ status: 'bounced', smtp_reply: 'smtp; 550 5.1.1 user unknown' });
    expect((await deploymentRow(db, deploymentId)).feedback_at).not.toBeNull();
  });

  it('W6: the same event delivered three times (an SNS retry) counts once', async () => {
    const e = event({ deliveryTag: `${deploymentId}.3` });
    const first = await ingestor.ingest(parsed(e));
    const again = await Promise.all([ingestor.ingest(parsed(e)), ingestor.ingest(parsed(e, e))]);
    expect(first.dispositions.counted).toBe(1);
    expect(again.map((s) => s.duplicates)).toEqual([1, 2]);
    expect(await books()).toMatchObject({ sent: 97, bounced: 3 });
    expect((await db.sql`select count(*)::int as n from provider_events where event_id = ${e.eventId}`)[0]!.n).toBe(1);
  });

  it('W11: a delivery then a bounce for one recipient ends bounced and counts once', async () => {
    const delivered = event({ kind: 'delivery', bounceClass: undefined, messageId: messageId(4) });
    const bounced = event({ messageId: messageId(4) });
    const fromOtherProvider = event({ provider: 'sendgrid', messageId: messageId(4) });
    await ingestor.ingest(parsed(delivered, bounced));
    await ingestor.ingest(parsed(fromOtherProvider));
    expect(await books()).toMatchObject({ sent: 96, bounced: 4 });
    expect([await disposition(delivered.eventId), await disposition(bounced.eventId), await disposition(fromOtherProvider.eventId)]).toEqual(['recorded', 'counted', 'recorded']);
  });

  it('a bounce for a message already bounced at RCPT is recorded, not counted again', async () => {
    const e = event({ messageId: messageId(1) });
    await ingestor.ingest(parsed(e));
    expect(await disposition(e.eventId)).toBe('recorded');
    expect(await books()).toMatchObject({ sent: 96, bounced: 4 });
  });

  it('soft bounces, deferrals and bounces the provider keeps out of its rate are recorded only', async () => {
    const events = [
      event({ bounceClass: 'soft', subtype: 'Transient/MailboxFull', messageId: messageId(5) }),
      event({ countsTowardRate: false, subtype: 'Permanent/OnAccountSuppressionList', messageId: messageId(6) }),
      event({ kind: 'deferral', bounceClass: undefined, messageId: messageId(7) }),
    ];
    const summary = await ingestor.ingest(parsed(...events));
    expect(summary.dispositions).toMatchObject({ recorded: 3, counted: 0 });
    expect(await books()).toMatchObject({ sent: 96, bounced: 4 });
  });

  it('a complaint counts once per recipient', async () => {
    await ingestor.ingest(parsed(event({ kind: 'complaint', bounceClass: undefined, messageId: messageId(8) })));
    const repeat = event({ kind: 'complaint', bounceClass: undefined, provider: 'generic', messageId: messageId(8) });
    await ingestor.ingest(parsed(repeat));
    expect(await disposition(repeat.eventId)).toBe('recorded');
    expect(await books()).toMatchObject({ complaints: 1 });
    const [row] = await db.sql`select complained_at from deliveries where deployment_id = ${deploymentId} and seq = 8`;
    expect(row!.complained_at).not.toBeNull();
  });

  it('a delivery proves a message lost on our side of the wire was delivered: unknown → sent', async () => {
    await db.sql`update deliveries set status = 'unknown' where deployment_id = ${deploymentId} and seq = 9`;
    await db.sql`update deployments set sent_count = sent_count - 1, unknown_count = unknown_count + 1 where id = ${deploymentId}`;
    await db.sql`update batches set sent_count = sent_count - 1, unknown_count = unknown_count + 1 where deployment_id = ${deploymentId}`;
    await ingestor.ingest(parsed(event({ kind: 'delivery', bounceClass: undefined, messageId: messageId(9) })));
    expect(await books()).toMatchObject({ sent: 96, unknown: 0, batch: { sent_count: 96, unknown_count: 0 } });
  });

  it('W8: feedback for a message whose send is not recorded yet waits as an orphan, then counts', async () => {
    await db.sql`update deliveries set status = 'claimed' where deployment_id = ${deploymentId} and seq = 10`;
    const early = event({ messageId: messageId(10) });
    expect((await ingestor.ingest(parsed(early))).dispositions.orphan).toBe(1);
    expect(await ingestor.retryOrphans()).toBe(0);
    await db.sql`update deliveries set status = 'sent' where deployment_id = ${deploymentId} and seq = 10`;
    expect(await ingestor.retryOrphans()).toBe(1);
    expect(await disposition(early.eventId)).toBe('counted');
    expect(await books()).toMatchObject({ sent: 95, bounced: 5 });
  });

  it('W8: feedback for a message that is not ours is kept as an orphan without a deployment', async () => {
    const foreign = event({ messageId: '<custom-message-ID>', recipient: 'jane@example.com' });
    await ingestor.ingest(parsed(foreign));
    const [row] = await db.sql`select disposition, deployment_id, recipient from provider_events where event_id = ${foreign.eventId}`;
    expect(row).toEqual({ disposition: 'orphan', deployment_id: null, recipient: 'jane@example.com' });
  });

  it('unparseable input is quarantined, once', async () => {
    const q = { provider: 'ses' as const, eventId: 'sns-msg-1', reason: 'unknown notificationType "Open"', raw: { notificationType: 'Open' } };
    await ingestor.ingest({ events: [], quarantined: [q] });
    await ingestor.ingest({ events: [], quarantined: [q] });
    const rows = await db.sql`select disposition, payload from provider_events where event_id = 'sns-msg-1'`;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ disposition: 'quarantined', payload: { reason: 'unknown notificationType "Open"' } });
  });

  it('concurrent requests are gathered into few transactions and every one is counted exactly once', async () => {
    const events = Array.from({ length: 40 }, (_, i) => event({ messageId: messageId(20 + i) }));
    const before = (await db.sql`select xact_commit::int as n from pg_stat_database where datname = current_database()`)[0]!.n;
    const summaries = await Promise.all(events.map((e) => ingestor.ingest(parsed(e))));
    const after = (await db.sql`select xact_commit::int as n from pg_stat_database where datname = current_database()`)[0]!.n;
    expect(summaries.every((s) => s.dispositions.counted === 1)).toBe(true);
    expect(after - before).toBeLessThan(20);
    expect(await books()).toMatchObject({ sent: 55, bounced: 45 });
    expect(await ledgerCounts(db, deploymentId)).toEqual({ sent: 55, bounced: 45 });
  });

  it('W17: an event the database refuses is quarantined alone, found by halving its request; the other 49 are stored as usual, and the metric hook hears of it', async () => {
    await db.sql.unsafe(`
      create function refuse_one() returns trigger language plpgsql as $$
      begin
        if new.event_id = 'refused-by-db' and new.disposition <> 'quarantined' then raise exception 'value refused' using errcode = '22P02'; end if;
        return new;
      end $$;
      create trigger refuse_one before insert on provider_events for each row execute function refuse_one();`);
    const heard: string[] = [];
    const counting = createFeedbackIngestor({ database: db, logger: testLogger, onQuarantined: (provider, cause, n) => heard.push(`${provider}/${cause}/${n}`) });
    try {
      const events = Array.from({ length: 50 }, (_, i) => event(i === 31 ? { eventId: 'refused-by-db', messageId: messageId(51 + i) } : { messageId: messageId(51 + i), kind: 'delivery', bounceClass: undefined }));
      const before = await books();
      const summary = await counting.ingest(parsed(...events));
      expect(summary).toMatchObject({ received: 50, duplicates: 0, unstorable: 1, lost: 0, dispositions: { quarantined: 1 } });
      expect(await books()).toMatchObject({ bounced: before.bounced });
      expect(await db.sql`select count(*)::int as n from provider_events where event_id like 'evt-%' and seq between 51 and 100 and deployment_id = ${deploymentId} and type = 'delivery'`).toEqual([{ n: 49 }]);
      const [kept] = await db.sql`select disposition, payload->>'reason' as reason from provider_events where event_id = 'refused-by-db'`;
      expect(kept).toEqual({ disposition: 'quarantined', reason: expect.stringMatching(/^the database refused it: value refused/) });
      expect(heard).toEqual(['ses/unstorable/1']);
    } finally {
      await db.sql.unsafe('drop trigger refuse_one on provider_events; drop function refuse_one()');
    }
  });

  it('W15: rejects (so the webhook answers 5xx and the provider retries) when Postgres is unreachable', async () => {
    const broken = connectDatabase('postgres://nobody:wrong@127.0.0.1:1/none', { max: 1 });
    const failing = createFeedbackIngestor({ database: broken, logger: testLogger });
    await expect(failing.ingest(parsed(event({ messageId: messageId(70) })))).rejects.toThrow();
    await broken.close();
    expect(await books()).toMatchObject({ sent: 55, bounced: 45 });
  });
});
