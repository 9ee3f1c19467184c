import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { checkLedger } from '../../support/checker.js';
import { startServe, type ServeProcess } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, testConfig, waitFor, workerEnv } from '../../support/sending.js';

/**
 * Worker processes dying at the worst moments. The checker compares the ledger with the sink:
 * never a duplicate, never a lost or phantom message; `unknown` only for what was on the wire.
 */
const LANES = 4;
let db: TestDatabase;
let sink: SmtpSink;
const processes: ServeProcess[] = [];
const worker = (env: Record<string, string>) => {
  const started = startServe(env, ['--role', 'worker']);
  processes.push(started);
  return started;
};
const heldBy = async (deploymentId: string, pid: number) =>
  (await db.sql<{ n: number }[]>`select count(*)::int as n from deliveries where deployment_id = ${deploymentId} and status = 'claimed' and claimed_by like ${`%:${pid}:%`}`)[0]!.n;
const completed = (deploymentId: string, what: string) =>
  waitFor(async () => (await deploymentRow(db, deploymentId)).status === 'completed', { timeoutMs: 90_000, what });

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
});
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL', 10_000)));
});
afterAll(async () => {
  await sink.close();
  await db.drop();
});

describe('worker crashes', () => {
  it('a crash between the SMTP 250 and the ledger commit leaves that message unknown, with exactly one copy', async () => {
    const config = testConfig(db, { SEND_CONCURRENCY: String(LANES), SEND_RATE_PER_SECOND: '500', SEND_LEASE_SECONDS: '2' });
    const env = workerEnv(config, db, sink.url);
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(1500, { domain: () => 'crash-accept.example' }) });
    const id = deploymentIds[0]!;
    const victim = worker({ ...env, FAILPOINTS: 'crash-after-accept=300' });
    const exit = await victim.exited;
    expect(exit.signal).toBe('SIGKILL');
    const held = await heldBy(id, victim.process.pid!);
    expect(held).toBeGreaterThanOrEqual(1);
    expect(held).toBeLessThanOrEqual(LANES);

    worker(env);
    await completed(id, 'the restarted worker to finish');
    const check = await checkLedger(db, id, sink);
    expect(check).toMatchObject({ total: 1500, duplicates: 0, lost: 0, phantom: 0, booksMatch: true });
    expect(check.unknown).toBe(held);
    // The message the server accepted just before the crash: unknown in the books, on the wire once.
    const unknown = await db.sql<{ seq: number }[]>`select seq from deliveries where deployment_id = ${id} and status = 'unknown'`;
    const copies = unknown.map((r) => sink.byDelivery.get(`${id}.${r.seq}`) ?? 0);
    expect(copies.filter((n) => n === 1).length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...copies)).toBe(1);
  }, 120_000);

  it('five SIGKILLs at random moments, each followed by a restart: 0 duplicates, 0 lost, unknown ≤ kills × lanes', async () => {
    const config = testConfig(db, { SEND_CONCURRENCY: String(LANES), SEND_RATE_PER_SECOND: '600', SEND_LEASE_SECONDS: '2' });
    const env = workerEnv(config, db, sink.url);
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(4000, { domain: () => 'random-kill.example' }) });
    const id = deploymentIds[0]!;
    const steady = worker(env);
    let victim = worker(env);
    let heldAtKills = 0;
    for (let kill = 0; kill < 5; kill++) {
      await new Promise((r) => setTimeout(r, 700 + Math.random() * 800));
      victim.process.kill('SIGKILL');
      await victim.exited;
      heldAtKills += await heldBy(id, victim.process.pid!);
      victim = worker(env);
    }
    await completed(id, 'the send to finish after five kills');
    const check = await checkLedger(db, id, sink);
    expect(check).toMatchObject({ total: 4000, duplicates: 0, lost: 0, phantom: 0, booksMatch: true });
    expect(check.unknown).toBeLessThanOrEqual(heldAtKills);
    expect(check.unknown).toBeLessThanOrEqual(5 * LANES);
    expect(steady.running()).toBe(true);
  }, 150_000);

  it('a frozen worker (SIGSTOP) loses its lease; after SIGCONT it sends nothing twice', async () => {
    const config = testConfig(db, { SEND_CONCURRENCY: String(LANES), SEND_RATE_PER_SECOND: '400', SEND_LEASE_SECONDS: '2' });
    const env = workerEnv(config, db, sink.url);
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(2500, { domain: () => 'frozen.example' }) });
    const id = deploymentIds[0]!;
    const frozen = worker(env);
    const other = worker(env);
    await waitFor(async () => (await deploymentRow(db, id)).sent_count >= 300, { what: 'sending under way' });
    frozen.process.kill('SIGSTOP');
    const pid = frozen.process.pid!;
    // Its lease runs out and the other worker's sweeper marks what it held unknown.
    await waitFor(async () => (await heldBy(id, pid)) === 0, { timeoutMs: 20_000, what: 'the frozen worker\'s claims to expire' });
    frozen.process.kill('SIGCONT');
    await completed(id, 'the send to finish');
    const check = await checkLedger(db, id, sink);
    expect(check).toMatchObject({ total: 2500, duplicates: 0, lost: 0, phantom: 0, booksMatch: true });
    expect(check.unknown).toBeLessThanOrEqual(LANES);
    expect(other.running()).toBe(true);
  }, 120_000);
});
