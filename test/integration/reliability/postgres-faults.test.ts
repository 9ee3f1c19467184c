import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import type { FeedbackEvent } from '../../../src/domain/feedback.js';
import { createHttpServer } from '../../../src/http/server.js';
import { registerWebhookRoutes } from '../../../src/http/webhooks/routes.js';
import { createCertificateStore } from '../../../src/http/webhooks/sns-certificates.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { createAccessService } from '../../../src/services/access.js';
import { createFeedbackIngestor } from '../../../src/services/feedback/ingest.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { checkLedger } from '../../support/checker.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, startWorker, testConfig, testLogger, waitFor } from '../../support/sending.js';
import { createHmac } from 'node:crypto';

/**
 * Postgres connections terminated (pg_terminate_backend) under load: sends finish exactly once,
 * a cancel is never reported that did not commit, webhooks answer 5xx (never 4xx) and their
 * retries count once.
 */
let db: TestDatabase;
let sink: SmtpSink;
let killer: postgres.Sql;
beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
  killer = postgres(db.url, { max: 1, onnotice: () => {} });
  await createAccessService({ db: db.db, clock: () => new Date() }).grant('U_ONCALL', 'responder', 'test');
});
// The test's own pool lost its connections in the previous test's chaos: let each fail once now.
beforeEach(async () => {
  await Promise.all(Array.from({ length: 10 }, () => settled(() => db.sql`select pg_sleep(0.02)`)));
});
afterAll(async () => {
  await killer.end();
  await sink.close();
  await db.drop();
});

/** Reads after the chaos: a pooled connection killed while idle fails its next query once. */
async function settled<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Terminates every other connection to this database every `everyMs` until stopped. */
function terminating(everyMs: number) {
  let running = true;
  let kills = 0;
  const loop = (async () => {
    while (running) {
      const rows = await killer`select pg_terminate_backend(pid) as done from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`.catch(() => []);
      kills += rows.length;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return kills;
    },
  };
}

describe('Postgres connections terminated', () => {
  it('during sending: the send finishes, every recipient exactly once', async () => {
    const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url, SEND_RATE_PER_SECOND: '500' }));
    try {
      const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(2000, { domain: () => 'pg-kill.example' }) });
      const id = deploymentIds[0]!;
      await waitFor(async () => (await deploymentRow(db, id)).sent_count >= 200, { what: 'sending under way' });
      const chaos = terminating(400);
      await new Promise((r) => setTimeout(r, 3000));
      expect(await chaos.stop()).toBeGreaterThan(0);
      await waitFor(async () => (await deploymentRow(db, id).catch(() => ({ status: '' }))).status === 'completed', { what: 'completion', timeoutMs: 60_000 });
      const check = await checkLedger(db, id, sink);
      expect(check).toMatchObject({ total: 2000, duplicates: 0, lost: 0, phantom: 0, booksMatch: true });
    } finally {
      await worker.stop();
    }
  }, 120_000);

  it('during cancels: a cancel reported as done has committed; one that failed changed nothing', async () => {
    const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url, SEND_RATE_PER_SECOND: '50' }));
    try {
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) ids.push((await createCampaignOrThrow(db, { csv: audienceCsv(300, { domain: () => `c${i}.example` }), sendAt: null })).deploymentIds[0]!);
      await db.sql`update deployments set status = 'scheduled', send_at = now() + interval '1 day' where id = any(${ids}::text[])`;
      const chaos = terminating(15);
      const results = await Promise.all(ids.map((id) => worker.cancellation.cancel({ target: id, actor: 'U_ONCALL' }).then((o) => o.outcome, () => 'error')));
      await chaos.stop();
      for (const [i, id] of ids.entries()) {
        const status = (await settled(() => deploymentRow(db, id))).status;
        if (results[i] === 'cancelled') expect(status, `${id} reported cancelled`).toBe('cancelled');
        else expect(['cancelled', 'scheduled'], `${id} answered ${results[i]}`).toContain(status);
        if (results[i] === 'error') {
          // A failure says nothing was done: asking again must settle it, once.
          const again = await settled(() => worker.cancellation.cancel({ target: id, actor: 'U_ONCALL' }));
          expect(['cancelled', 'already_cancelled']).toContain(again.outcome);
        }
      }
      const audits = await settled(() => db.sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'cancel' and outcome = 'ok' and target_id = any(${ids}::text[])`);
      expect(audits[0]!.n).toBe(ids.length);
    } finally {
      await worker.stop();
    }
  }, 120_000);

  it('during a webhook burst: refused with 5xx (never 4xx), and the retries count each event once', async () => {
    const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url }));
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(400, { domain: () => 'hooks.example' }) });
    const id = deploymentIds[0]!;
    await waitFor(async () => (await deploymentRow(db, id)).status === 'completed', { what: 'completion' });
    await worker.stop();

    const secret = 'x'.repeat(40);
    const server = createHttpServer({ logger: testLogger });
    registerWebhookRoutes(server, {
      config: { sesTopicArns: [], sendgridPublicKey: undefined, eventsSecret: secret },
      ingest: async (parsed) => {
        await ingestor.ingest(parsed);
      },
      certificates: createCertificateStore(),
      confirmSubscription: async () => {},
      logger: testLogger,
    });
    const ingestor = createFeedbackIngestor({ database: db, logger: testLogger });
    const post = (events: Partial<FeedbackEvent & { id: string; type: string }>[]) => {
      const body = JSON.stringify({ events });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
      return server.inject({ method: 'POST', url: '/webhooks/events', headers: { 'content-type': 'application/json', 'x-campaign-guard-timestamp': timestamp, 'x-campaign-guard-signature': `v1=${signature}` }, payload: body });
    };
    const batches = Array.from({ length: 40 }, (_, b) => Array.from({ length: 5 }, (_, i) => ({ id: `burst-${b}-${i}`, type: 'bounce', bounceType: 'hard', deliveryTag: `${id}.${b * 5 + i + 1}` })));

    const chaos = terminating(10);
    const first = await Promise.all(batches.map((events) => post(events).then((r) => r.statusCode)));
    await chaos.stop();
    expect(first.filter((code) => code >= 400 && code < 500)).toEqual([]);
    expect(first.every((code) => code === 200 || code === 503)).toBe(true);
    // The provider retries what was refused (and, as providers do, what was not), until accepted.
    let refused = batches;
    for (let round = 0; round < 5 && refused.length > 0; round++) {
      const codes = await Promise.all(refused.map((events) => post(events).then((r) => r.statusCode)));
      expect(codes.every((code) => code === 200 || code === 503)).toBe(true);
      refused = refused.filter((_, i) => codes[i] !== 200);
    }
    expect(refused).toEqual([]);
    const d = await settled(() => deploymentRow(db, id));
    expect({ bounced: d.bounced_count, sent: d.sent_count }).toEqual({ bounced: 200, sent: 200 });
    const stored = await settled(() => db.sql<{ n: number }[]>`select count(*)::int as n from provider_events where event_id like 'burst-%'`);
    expect(stored[0]!.n).toBe(200);
    await server.close();
  }, 120_000);
});
