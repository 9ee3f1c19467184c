import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlExecutor } from '../../../src/db/client.js';
import { cancelDeployments, markLedgerCancelled } from '../../../src/db/queries/cancellation.js';
import { settleAndClaim } from '../../../src/db/queries/claims.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { createSmtpTransport } from '../../../src/mail/transport.js';
import { createRateLimiter } from '../../../src/queue/rate-limiter.js';
import { createRedis } from '../../../src/queue/redis.js';
import { createStopWatcher } from '../../../src/queue/stop-signal.js';
import { createSendJobProcessor } from '../../../src/services/sending/send-job.js';
import { createRelayHealth } from '../../../src/services/sending/relay-health.js';
import { checkLedger } from '../../support/checker.js';
import { createTestDatabase, redisUrl, uniquePrefix, type TestDatabase } from '../../support/database.js';
import { sendingBatch, testLogger } from '../../support/sending.js';

/**
 * The connection to Postgres dies after a claim committed but before its rows came back: the
 * worker cannot know which rows it now holds. They were never handed to a lane, so the next
 * statement gives them back (each claim has a token of its own); nothing is lost, nothing doubled.
 */
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

/**
 * A send job's statement that claims rows: its claiming part is a fragment of its own, left out
 * when it claims nothing; only a claim counts an attempt.
 */
function claimsRows(args: unknown[]): boolean {
  const text = (strings: unknown) => (Array.isArray(strings) ? strings.join('') : '');
  return text(args[0]).includes('claimed as (') && args.slice(1).some((value) => text((value as { strings?: unknown } | null)?.strings).includes('attempts = attempts + 1'));
}

/** The database as the worker sees it, except that the answers of the chosen claims are lost after they commit. */
function losingClaimAnswers(sql: SqlExecutor, lose: Set<number>) {
  let claims = 0;
  let lost = 0;
  const losing = new Proxy(sql, {
    apply(target, thisArg, args: unknown[]) {
      const query = Reflect.apply(target, thisArg, args) as PromiseLike<unknown>;
      if (!claimsRows(args) || !lose.has(++claims)) return query;
      return Promise.resolve(query).then(() => {
        lost += 1;
        throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      });
    },
  });
  return { sql: losing, lost: () => lost };
}

describe('a claim whose answer is lost', () => {
  it('puts the rows it may have claimed back, and every recipient gets exactly one message', async () => {
    const { deploymentId, batchId, range } = await sendingBatch(db, 60);

    const prefix = uniquePrefix('ambiguous');
    const commands = createRedis(redisUrl(), 'test-commands', testLogger);
    const subscriber = createRedis(redisUrl(), 'test-stops', testLogger, { blocking: true });
    const transport = createSmtpTransport({ url: sink.url, connections: 4 });
    const stops = createStopWatcher({ subscriber, prefix, sql: db.sql, logger: testLogger });
    try {
      const losing = losingClaimAnswers(db.sql, new Set([2, 5]));
      const process = createSendJobProcessor({
        database: { ...db, sql: losing.sql as typeof db.sql },
        transport,
        stops,
        rateLimiter: createRateLimiter({ redis: commands, prefix, ratePerSecond: 100_000 }),
        workerId: 'test-worker',
        leaseSeconds: 30,
        logger: testLogger,
        relay: createRelayHealth({ persistAfterMs: 30_000, onPersistent: () => undefined }),
      });
      const result = await process({ deploymentId, batchId: batchId, fromSeq: range.first_seq, toSeq: range.last_seq, generation: 0 });
      expect(result.finished).toBe(true);
      expect(losing.lost()).toBe(2);

      const check = await checkLedger(db, deploymentId, sink);
      expect(check).toMatchObject({ total: 60, duplicates: 0, lost: 0, phantom: 0, unknown: 0, booksMatch: true });
      expect(check.byStatus).toEqual({ sent: 60 });
      const [books] = await db.sql`select status, in_flight_count from deployments where id = ${deploymentId}`;
      expect(books).toEqual({ status: 'completed', in_flight_count: 0 });
    } finally {
      await stops.close();
      await transport.close();
      commands.disconnect();
      subscriber.disconnect();
    }
  });
});

describe('a claimed row given back after its deployment was cancelled', () => {
  it('is cancelled, not pending again, and counted among those that will never be sent', async () => {
    const { deploymentId, batchId } = await sendingBatch(db, 10);
    const range = { deploymentId, batchId, fromSeq: 1, toSeq: 10 };
    const none = { leaseSeconds: 30, settled: [], released: [], voided: [] };
    const claimed = await settleAndClaim(db.sql, { ...none, claims: [1, 2, 3].map((seq) => ({ range, seq })), claimToken: 'w/1' });
    expect(claimed).toHaveLength(3);
    // The cancel commits, and its ledger marking is over, before the lanes give their rows back.
    await db.sql.begin((tx) => cancelDeployments(tx, [deploymentId], 'U_RESP1', null));
    await markLedgerCancelled(db.sql, deploymentId, null);
    await settleAndClaim(db.sql, { ...none, claims: [], claimToken: 'w/2', released: [{ deploymentId, seq: claimed[0]!.seq }], voided: [{ token: 'w/1', deploymentIds: [deploymentId] }] });

    expect(await db.sql`select status, count(*)::int as n from deliveries where deployment_id = ${deploymentId} group by status`).toEqual([{ status: 'cancelled', n: 10 }]);
    expect((await db.sql`select cancelled_count, in_flight_count from deployments where id = ${deploymentId}`)[0]).toEqual({ cancelled_count: 10, in_flight_count: 0 });
    expect((await db.sql`select cancelled_count, in_flight_count from batches where id = ${batchId}`)[0]).toEqual({ cancelled_count: 10, in_flight_count: 0 });
  });
});
