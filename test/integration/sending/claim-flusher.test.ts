import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchFlushers } from '../../../src/services/sending/batch-flushers.js';
import { createClaimFlusher } from '../../../src/services/sending/claim-flusher.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { sendingBatch, testLogger } from '../../support/sending.js';

/**
 * The group commit under lanes that ask at every moment: each claim gets its answer (none waits
 * for a statement that never comes), each row is claimed once, and the books end where the
 * ledger does.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

/** Lets a random number of microtasks and, now and then, a macrotask go by. */
async function jitter(): Promise<void> {
  const hops = Math.floor(Math.random() * 6);
  for (let i = 0; i < hops; i++) await Promise.resolve();
  if (Math.random() < 0.2) await new Promise((resolve) => setImmediate(resolve));
}

describe('the claim flusher', () => {
  it('answers every claim of 8 lanes asking at random moments, and claims each row once', async () => {
    const { deploymentId, batchId } = await sendingBatch(db, 1200);
    let n = 0;
    const flusher = createClaimFlusher({ sql: db.sql, job: { deploymentId, batchId: batchId, fromSeq: 1, toSeq: 1200 }, nextToken: () => `w/${++n}`, leaseSeconds: 30, logger: testLogger, lingerMs: 1 });
    let next = 0;
    const answers: string[] = [];
    const lane = async () => {
      for (let seq = ++next; seq <= 1200; seq = ++next) {
        await jitter();
        const answer = await Promise.race([flusher.claim(seq), new Promise<string>((resolve) => setTimeout(() => resolve('no answer in 10 s'), 10_000))]);
        answers.push(answer);
        if (answer !== 'claimed') return;
        await jitter();
        flusher.settle({ seq, status: 'sent', code: 250, reply: '250 ok', messageId: null });
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    await flusher.drain();
    expect(answers.filter((a) => a !== 'claimed')).toEqual([]);
    expect(await db.sql`select status, count(*)::int as n from deliveries where deployment_id = ${deploymentId} group by status`).toEqual([{ status: 'sent', n: 1200 }]);
    expect((await db.sql`select sent_count, in_flight_count from deployments where id = ${deploymentId}`)[0]).toEqual({ sent_count: 1200, in_flight_count: 0 });

    // Refused claims come back without any I/O in between, so a lane's next claim can arrive in
    // the moment the statement loop is ending: it must still be answered.
    const refusals: string[] = [];
    const eager = async (lane: number) => {
      for (let i = 0; i < 150; i++) {
        const answer = await Promise.race([flusher.claim(1 + ((lane * 150 + i) % 1200)), new Promise<string>((resolve) => setTimeout(() => resolve('no answer in 10 s'), 10_000))]);
        refusals.push(answer);
        if (answer !== 'refused') return;
        for (let hop = i % 4; hop > 0; hop--) await Promise.resolve();
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, lane) => eager(lane)));
    expect(refusals.filter((a) => a !== 'refused')).toEqual([]);
    expect(refusals).toHaveLength(1200);
  }, 60_000);

  it('waits for every lane before the next statement: about one statement per lane-full of claims', async () => {
    const { deploymentId, batchId } = await sendingBatch(db, 800);
    const run = async (gather: boolean) => {
      let statements = 0;
      let lanesAsking = 0;
      const from = gather ? 1 : 401;
      const flusher = createClaimFlusher({
        sql: db.sql, job: { deploymentId, batchId: batchId, fromSeq: from, toSeq: from + 399 }, nextToken: () => `g${gather}/${++statements}`,
        leaseSeconds: 30, logger: testLogger, lingerMs: 1, ...(gather ? { lanesAsking: () => lanesAsking, gatherMs: 50 } : {}),
      });
      let next = from - 1;
      const answers: string[] = [];
      // A lane takes a moment (an SMTP reply) between its claim's answer and its next claim.
      const lane = async () => {
        lanesAsking++;
        for (let seq = ++next; seq < from + 400; seq = ++next) {
          answers.push(await flusher.claim(seq));
          await new Promise((resolve) => setTimeout(resolve, 1));
          flusher.settle({ seq, status: 'sent', code: 250, reply: '250 ok', messageId: null });
        }
        lanesAsking--;
      };
      await Promise.all(Array.from({ length: 8 }, lane));
      await flusher.drain();
      expect(answers.filter((a) => a !== 'claimed')).toEqual([]);
      return statements;
    };
    const gathered = await run(true);
    const ungathered = await run(false);
    // 400 claims of 8 lanes: 50 statements if every one carries all 8 (the last lanes may trail).
    expect(gathered).toBeLessThanOrEqual(60);
    expect(ungathered, 'without lanesAsking, statements go as soon as one claim waits').toBeGreaterThan(gathered);
    expect(await db.sql`select status, count(*)::int as n from deliveries where deployment_id = ${deploymentId} group by status`).toEqual([{ status: 'sent', n: 800 }]);
    expect((await db.sql`select sent_count, in_flight_count from deployments where id = ${deploymentId}`)[0]).toEqual({ sent_count: 800, in_flight_count: 0 });
  }, 60_000);

  it('does not wait for lanes that have no rows left to ask for', async () => {
    const { deploymentId, batchId } = await sendingBatch(db, 12);
    const queue = Array.from({ length: 12 }, (_, i) => i + 1);
    let lanesAsking = 0;
    let n = 0;
    const flusher = createClaimFlusher({
      sql: db.sql, job: { deploymentId, batchId: batchId, fromSeq: 1, toSeq: 12 }, nextToken: () => `r/${++n}`,
      leaseSeconds: 30, logger: testLogger, lanesAsking: () => lanesAsking, rowsLeft: () => queue.length, gatherMs: 5000, lingerMs: 5000,
    });
    // 8 lanes and 12 rows. Rows 5-8 are slow messages (a second each): while the lanes on them are
    // still running, the other four take the last rows 9-12 and ask, and nobody else ever will.
    const waits: number[] = [];
    const lane = async () => {
      lanesAsking++;
      for (let seq = queue.shift(); seq !== undefined; seq = queue.shift()) {
        const asked = Date.now();
        expect(await flusher.claim(seq)).toBe('claimed');
        if (seq > 8) waits.push(Date.now() - asked);
        await new Promise((resolve) => setTimeout(resolve, seq >= 5 && seq <= 8 ? 1000 : 5));
        flusher.settle({ seq, status: 'sent', code: 250, reply: '250 ok', messageId: null });
      }
      lanesAsking--;
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    await flusher.drain();
    expect(waits).toHaveLength(4);
    expect(Math.max(...waits), 'the last claims waited for lanes that had nothing left to ask for').toBeLessThan(500);
    expect((await db.sql`select sent_count, in_flight_count from deployments where id = ${deploymentId}`)[0]).toEqual({ sent_count: 12, in_flight_count: 0 });
  }, 30_000);

  it('gathers the lanes of every open job of a batch into one statement, and commits a leaving job\'s outcomes without hurrying the others\' claims', async () => {
    const { deploymentId, batchId } = await sendingBatch(db, 500);
    let statements = 0;
    const flushers = createBatchFlushers({ sql: db.sql, nextToken: () => `s/${++statements}`, leaseSeconds: 30, logger: testLogger });
    const ending = { deploymentId, batchId: batchId, fromSeq: 1, toSeq: 250 };
    const starting = { deploymentId, batchId: batchId, fromSeq: 251, toSeq: 500 };
    // The ending job has 3 lanes on their last rows; the starting one 5 lanes and rows to spare.
    const endingLanes = { asking: 3, rowsLeft: 0 };
    const startingLanes = { asking: 5, rowsLeft: 245 };
    const flusher = flushers.join(ending, endingLanes);
    expect(flushers.join(starting, startingLanes)).toBe(flusher);
    const claims = [248, 249, 250, 251, 252, 253, 254, 255].map((seq) => flusher.claim(seq));
    expect(await Promise.all(claims)).toEqual(Array(8).fill('claimed'));
    expect(statements, 'one statement for the eight lanes of both jobs').toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 10)); // the flusher is idle again

    // The ending job's outcomes are committed; the starting job's lanes, asking again, are not
    // hurried into a statement of their own: the outcomes wait for their claims to carry them.
    for (const seq of [248, 249, 250]) flusher.settle({ seq, status: 'sent', code: 250, reply: '250 ok', messageId: null });
    endingLanes.asking = 0;
    const next = [256, 257, 258].map((seq) => flusher.claim(seq));
    const leaving = flushers.leave(ending, endingLanes);
    const more = [259, 260].map((seq) => flusher.claim(seq));
    await leaving;
    expect(await Promise.all([...next, ...more])).toEqual(Array(5).fill('claimed'));
    expect(statements, 'the outcomes went with the five claims, in one statement').toBe(2);
    expect(await db.sql`select seq from deliveries where deployment_id = ${deploymentId} and status = 'sent' order by seq`).toEqual([{ seq: 248 }, { seq: 249 }, { seq: 250 }]);
    await flushers.leave(starting, startingLanes);
  }, 30_000);
  it('answers both lanes when two open jobs of one range ask for the same row: one gets it, the other is refused', async () => {
    // A job that missed a short pause carries on beside the resume's job of the same range; both
    // share this worker's flusher for the batch, and the later ask must not take the first one's answer.
    const { deploymentId, batchId } = await sendingBatch(db, 20);
    let n = 0;
    const flushers = createBatchFlushers({ sql: db.sql, nextToken: () => `dup/${++n}`, leaseSeconds: 30, logger: testLogger });
    const range = { deploymentId, batchId, fromSeq: 1, toSeq: 20 };
    // Each has rows left and a lane asking: the two asks gather into one statement.
    const older = { asking: 1, rowsLeft: 5 };
    const resumed = { asking: 1, rowsLeft: 5 };
    const first = flushers.join(range, older);
    const second = flushers.join(range, resumed);
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('no answer in 10 s'), 10_000));
    const answers = await Promise.all([Promise.race([first.claim(7), timeout]), Promise.race([second.claim(7), timeout])]);
    expect(answers.sort()).toEqual(['claimed', 'refused']);
    first.settle({ seq: 7, status: 'sent', code: 250, reply: '250 ok', messageId: null });
    await Promise.all([flushers.leave(range, older), flushers.leave(range, resumed)]);
    expect(await db.sql`select status, count(*)::int as n from deliveries where deployment_id = ${deploymentId} and seq = 7 group by status`).toEqual([{ status: 'sent', n: 1 }]);
  });
});
