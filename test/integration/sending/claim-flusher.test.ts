import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClaimFlusher } from '../../../src/services/sending/claim-flusher.js';
import { createOpenSendJobs } from '../../../src/services/sending/open-send-jobs.js';
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
    const range = { deploymentId, batchId, fromSeq: 1, toSeq: 1200 };
    const flusher = createClaimFlusher({ sql: db.sql, nextToken: () => `w/${++n}`, leaseSeconds: 30, logger: testLogger, lingerMs: 1 });
    let next = 0;
    const answers: string[] = [];
    const lane = async () => {
      for (let seq = ++next; seq <= 1200; seq = ++next) {
        await jitter();
        const answer = await Promise.race([flusher.claim(range, seq), new Promise<string>((resolve) => setTimeout(() => resolve('no answer in 10 s'), 10_000))]);
        answers.push(answer);
        if (answer !== 'claimed') return;
        await jitter();
        flusher.settle(deploymentId, { seq, status: 'sent', code: 250, reply: '250 ok', messageId: null });
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    await flusher.committed();
    expect(answers.filter((a) => a !== 'claimed')).toEqual([]);
    expect(await db.sql`select status, count(*)::int as n from deliveries where deployment_id = ${deploymentId} group by status`).toEqual([{ status: 'sent', n: 1200 }]);
    expect((await db.sql`select sent_count, in_flight_count from deployments where id = ${deploymentId}`)[0]).toEqual({ sent_count: 1200, in_flight_count: 0 });

    // Refused claims come back without any I/O in between, so a lane's next claim can arrive in
    // the moment the statement loop is ending: it must still be answered.
    const refusals: string[] = [];
    const eager = async (lane: number) => {
      for (let i = 0; i < 150; i++) {
        const answer = await Promise.race([flusher.claim(range, 1 + ((lane * 150 + i) % 1200)), new Promise<string>((resolve) => setTimeout(() => resolve('no answer in 10 s'), 10_000))]);
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
      const range = { deploymentId, batchId, fromSeq: from, toSeq: from + 399 };
      const flusher = createClaimFlusher({
        sql: db.sql, nextToken: () => `g${gather}/${++statements}`,
        leaseSeconds: 30, logger: testLogger, lingerMs: 1, ...(gather ? { lanesAsking: () => lanesAsking, gatherMs: 50 } : {}),
      });
      let next = from - 1;
      const answers: string[] = [];
      // A lane takes a moment (an SMTP reply) between its claim's answer and its next claim.
      const lane = async () => {
        lanesAsking++;
        for (let seq = ++next; seq < from + 400; seq = ++next) {
          answers.push(await flusher.claim(range, seq));
          await new Promise((resolve) => setTimeout(resolve, 1));
          flusher.settle(deploymentId, { seq, status: 'sent', code: 250, reply: '250 ok', messageId: null });
        }
        lanesAsking--;
      };
      await Promise.all(Array.from({ length: 8 }, lane));
      await flusher.committed();
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
    let n = 0;
    const openJobs = createOpenSendJobs({ sql: db.sql, nextToken: () => `r/${++n}`, leaseSeconds: 30, logger: testLogger, gatherMs: 5000, lingerMs: 5000 });
    const job = { deploymentId, batchId, fromSeq: 1, toSeq: 12 };
    const { claims, lanes } = openJobs.join(job);
    lanes.rowsLeft(queue.length);
    // 8 lanes and 12 rows. Rows 5-8 are slow messages (a second each): while the lanes on them are
    // still running, the other four take the last rows 9-12 and ask, and nobody else ever will.
    const waits: number[] = [];
    const lane = async () => {
      lanes.asking(1);
      for (let seq = queue.shift(); seq !== undefined; seq = queue.shift()) {
        lanes.rowsLeft(queue.length);
        const asked = Date.now();
        expect(await claims.claim(seq)).toBe('claimed');
        if (seq > 8) waits.push(Date.now() - asked);
        await new Promise((resolve) => setTimeout(resolve, seq >= 5 && seq <= 8 ? 1000 : 5));
        claims.settle({ seq, status: 'sent', code: 250, reply: '250 ok', messageId: null });
      }
      lanes.asking(-1);
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    await openJobs.leave(job, lanes);
    expect(waits).toHaveLength(4);
    expect(Math.max(...waits), 'the last claims waited for lanes that had nothing left to ask for').toBeLessThan(500);
    expect((await db.sql`select sent_count, in_flight_count from deployments where id = ${deploymentId}`)[0]).toEqual({ sent_count: 12, in_flight_count: 0 });
  }, 30_000);

  it('gathers the lanes of every open job of a batch into one statement, and commits a leaving job\'s outcomes without hurrying the others\' claims', async () => {
    const { deploymentId, batchId } = await sendingBatch(db, 500);
    let statements = 0;
    const openJobs = createOpenSendJobs({ sql: db.sql, nextToken: () => `s/${++statements}`, leaseSeconds: 30, logger: testLogger, gatherMs: 5000 });
    const ending = { deploymentId, batchId: batchId, fromSeq: 1, toSeq: 250 };
    const starting = { deploymentId, batchId: batchId, fromSeq: 251, toSeq: 500 };
    // The ending job has 3 lanes and its last rows; the starting one 5 lanes and rows to spare.
    const endingJob = openJobs.join(ending);
    const startingJob = openJobs.join(starting);
    endingJob.lanes.rowsLeft(3);
    startingJob.lanes.rowsLeft(245);
    for (let i = 0; i < 3; i++) endingJob.lanes.asking(1);
    for (let i = 0; i < 5; i++) startingJob.lanes.asking(1);
    const claims = [248, 249, 250].map((seq) => endingJob.claims.claim(seq));
    claims.push(...[251, 252, 253, 254, 255].map((seq) => startingJob.claims.claim(seq)));
    expect(await Promise.all(claims)).toEqual(Array(8).fill('claimed'));
    expect(statements, 'one statement for the eight lanes of both jobs').toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 10)); // the flusher is idle again
    endingJob.lanes.rowsLeft(0); // its lanes took the last rows: they will not ask again

    // The ending job's outcomes are committed; the starting job's lanes, asking again, are not
    // hurried into a statement of their own: the outcomes wait for their claims to carry them.
    for (const seq of [248, 249, 250]) endingJob.claims.settle({ seq, status: 'sent', code: 250, reply: '250 ok', messageId: null });
    for (let i = 0; i < 3; i++) endingJob.lanes.asking(-1);
    const next = [256, 257, 258].map((seq) => startingJob.claims.claim(seq));
    const leaving = openJobs.leave(ending, endingJob.lanes);
    const more = [259, 260].map((seq) => startingJob.claims.claim(seq));
    await leaving;
    expect(await Promise.all([...next, ...more])).toEqual(Array(5).fill('claimed'));
    expect(statements, 'the outcomes went with the five claims, in one statement').toBe(2);
    expect(await db.sql`select seq from deliveries where deployment_id = ${deploymentId} and status = 'sent' order by seq`).toEqual([{ seq: 248 }, { seq: 249 }, { seq: 250 }]);
    await openJobs.leave(starting, startingJob.lanes);
  }, 30_000);

  it('answers both lanes when two open jobs of one range ask for the same row: one gets it, the other is refused', async () => {
    // A job that missed a short pause carries on beside the resume's job of the same range; both
    // share this worker's flusher, and the later ask must not take the first one's answer.
    const { deploymentId, batchId } = await sendingBatch(db, 20);
    let n = 0;
    const openJobs = createOpenSendJobs({ sql: db.sql, nextToken: () => `dup/${++n}`, leaseSeconds: 30, logger: testLogger });
    const range = { deploymentId, batchId, fromSeq: 1, toSeq: 20 };
    // Each has rows left and a lane asking: the two asks gather into one statement.
    const older = openJobs.join(range);
    const resumed = openJobs.join(range);
    for (const job of [older, resumed]) {
      job.lanes.rowsLeft(5);
      job.lanes.asking(1);
    }
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('no answer in 10 s'), 10_000));
    const answers = await Promise.all([Promise.race([older.claims.claim(7), timeout]), Promise.race([resumed.claims.claim(7), timeout])]);
    expect(answers.sort()).toEqual(['claimed', 'refused']);
    older.claims.settle({ seq: 7, status: 'sent', code: 250, reply: '250 ok', messageId: null });
    await Promise.all([openJobs.leave(range, older.lanes), openJobs.leave(range, resumed.lanes)]);
    expect(await db.sql`select status, count(*)::int as n from deliveries where deployment_id = ${deploymentId} and seq = 7 group by status`).toEqual([{ status: 'sent', n: 1 }]);
  });

  it('carries the lanes of several deployments in one statement: each claim checked against its own deployment, each deployment\'s books moved by its own rows', async () => {
    const deployments = await Promise.all([sendingBatch(db, 10), sendingBatch(db, 10), sendingBatch(db, 10)]);
    const [a, b, paused] = deployments;
    await db.sql`update deployments set status = 'paused' where id = ${paused!.deploymentId}`;
    let statements = 0;
    const openJobs = createOpenSendJobs({ sql: db.sql, nextToken: () => `m/${++statements}`, leaseSeconds: 30, logger: testLogger, gatherMs: 5000 });
    const jobs = deployments.map((d) => {
      const range = { deploymentId: d.deploymentId, batchId: d.batchId, fromSeq: d.range.first_seq, toSeq: d.range.last_seq };
      const job = openJobs.join(range);
      job.lanes.rowsLeft(10);
      job.lanes.asking(1);
      job.lanes.asking(1);
      return { range, ...job };
    });
    // Two lanes of each deployment ask for the same seqs: the rows are each deployment's own.
    const asks = jobs.flatMap((job) => [job.range.fromSeq, job.range.fromSeq + 1].map((seq) => job.claims.claim(seq)));
    expect(await Promise.all(asks)).toEqual(['claimed', 'claimed', 'claimed', 'claimed', 'refused', 'refused']);
    expect(statements, 'one statement for the lanes of the three deployments').toBe(1);
    for (const job of jobs.slice(0, 2)) {
      job.claims.settle({ seq: job.range.fromSeq, status: 'sent', code: 250, reply: '250 ok', messageId: null });
      job.claims.settle({ seq: job.range.fromSeq + 1, status: 'bounced', code: 550, reply: '550 no such user', messageId: null });
    }
    jobs[1]!.claims.release(jobs[1]!.range.fromSeq + 2); // not claimed: nothing to give back, nothing moves
    await Promise.all(jobs.map((job) => openJobs.leave(job.range, job.lanes)));
    for (const d of [a!, b!]) {
      expect(await db.sql`select status, count(*)::int as n from deliveries where deployment_id = ${d.deploymentId} group by status order by status`, d.deploymentId)
        .toEqual([{ status: 'bounced', n: 1 }, { status: 'pending', n: 8 }, { status: 'sent', n: 1 }]);
      for (const table of ['deployments', 'batches'] as const) {
        const id = table === 'deployments' ? d.deploymentId : d.batchId;
        expect((await db.sql`select sent_count, bounced_count, in_flight_count from ${db.sql(table)} where id = ${id}`)[0], `${table} ${id}`)
          .toEqual({ sent_count: 1, bounced_count: 1, in_flight_count: 0 });
      }
    }
    expect(await db.sql`select status, count(*)::int as n from deliveries where deployment_id = ${paused!.deploymentId} group by status`).toEqual([{ status: 'pending', n: 10 }]);
    expect((await db.sql`select in_flight_count from deployments where id = ${paused!.deploymentId}`)[0]).toEqual({ in_flight_count: 0 });
  }, 30_000);
});
