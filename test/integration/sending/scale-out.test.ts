import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { startServe, type ServeProcess } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, ledgerCounts, sinkCopies, testConfig, waitFor, workerEnv } from '../../support/sending.js';

let db: TestDatabase;
let sink: SmtpSink;
const processes: ServeProcess[] = [];
const worker = (env: Record<string, string>) => {
  const started = startServe(env, ['--role', 'worker']);
  processes.push(started);
  return started;
};

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink({ faultFor: (rcpt) => (rcpt.startsWith('slow') ? { delayMs: 20 } : undefined) });
});
// Workers of one test would otherwise send the next test's campaigns (they share the database).
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGTERM', 30_000)));
});
afterAll(async () => {
  await sink.close();
  await db.drop();
});

describe('two worker processes', () => {
  it('send 5,000 recipients exactly once between them, and the books equal the sink', async () => {
    const config = testConfig(db, { SEND_CONCURRENCY: '4' });
    const env = workerEnv(config, db, sink.url);
    const workers = [worker(env), worker(env)];
    const created = await createCampaignOrThrow(db, { csv: audienceCsv(5000) });
    const deploymentId = created.deploymentIds[0]!;
    try {
      await waitFor(async () => (await deploymentRow(db, deploymentId)).status === 'completed', { timeoutMs: 60_000, what: 'the send to complete' });
    } catch (error) {
      // What the workers said is the first thing to read when this fails.
      console.error(workers.map((w) => w.output().stderr.slice(-3000)).join('\n----\n'));
      throw error;
    }

    const copies = sinkCopies(sink.byDelivery, deploymentId);
    expect(copies.size).toBe(5000);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    expect(await ledgerCounts(db, deploymentId)).toEqual({ sent: 5000 });
    expect(await deploymentRow(db, deploymentId)).toMatchObject({ sent_count: 5000, in_flight_count: 0, unknown_count: 0 });
    const byWorker = await db.sql<{ n: number }[]>`select count(*)::int as n from deliveries where deployment_id = ${deploymentId} group by split_part(claimed_by, '/', 1)`;
    expect(byWorker).toHaveLength(2); // both processes took part
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    expect(workers.map((w) => w.output().stderr).join('')).not.toMatch(/"level":(50|60)/);
  }, 120_000);

  it('lose nothing and send nothing twice when one is SIGKILLed mid-send and restarted', async () => {
    const config = testConfig(db, { SEND_CONCURRENCY: '4', SEND_RATE_PER_SECOND: '400', SEND_LEASE_SECONDS: '2' });
    const env = workerEnv(config, db, sink.url);
    const victim = worker(env);
    const survivor = worker(env);
    const created = await createCampaignOrThrow(db, { csv: audienceCsv(3000, { domain: () => 'example.org' }) });
    const deploymentId = created.deploymentIds[0]!;
    await waitFor(async () => Number((await deploymentRow(db, deploymentId)).sent_count) > 600, { timeoutMs: 30_000, what: 'sending to be under way' });

    victim.process.kill('SIGKILL');
    await victim.exited;
    const [{ held }] = (await db.sql`select count(*)::int as held from deliveries where deployment_id = ${deploymentId} and status = 'claimed' and claimed_by like ${`%:${victim.process.pid}:%`}`) as unknown as [{ held: number }];
    worker(env); // the restart
    await waitFor(async () => (await deploymentRow(db, deploymentId)).status === 'completed', { timeoutMs: 60_000, what: 'the send to complete' });

    const copies = sinkCopies(sink.byDelivery, deploymentId);
    const ledger = await db.sql<{ seq: number; status: string }[]>`select seq, status from deliveries where deployment_id = ${deploymentId}`;
    const duplicates = [...copies.values()].filter((n) => n > 1).length;
    const lost = ledger.filter((r) => r.status === 'sent' && !copies.has(r.seq)).length;
    const unfinished = ledger.filter((r) => r.status === 'pending' || r.status === 'claimed').length;
    const unknown = ledger.filter((r) => r.status === 'unknown').length;
    const phantom = [...copies.keys()].filter((seq) => !ledger.some((r) => r.seq === seq && (r.status === 'sent' || r.status === 'unknown'))).length;
    expect({ duplicates, lost, unfinished, phantom }).toEqual({ duplicates: 0, lost: 0, unfinished: 0, phantom: 0 });
    expect(unknown).toBeLessThanOrEqual(held);
    expect(held).toBeLessThanOrEqual(4); // never more than its lanes
    expect(ledger).toHaveLength(3000);
    expect(survivor.running()).toBe(true);
  }, 120_000);

  it('hold the global send rate within 10% over 10 s', async () => {
    // 50/s: low enough that a loaded CI machine cannot starve the workers below it.
    const config = testConfig(db, { SEND_CONCURRENCY: '4', SEND_RATE_PER_SECOND: '50' });
    const env = workerEnv(config, db, sink.url);
    const workers = [worker(env), worker(env)];
    const created = await createCampaignOrThrow(db, { csv: audienceCsv(800, { domain: () => 'rate.example' }) });
    const deploymentId = created.deploymentIds[0]!;
    const arrivals = () => sink.received.filter((m) => m.delivery?.startsWith(`${deploymentId}.`)).map((m) => m.at);
    await waitFor(async () => arrivals().length > 0, { timeoutMs: 30_000, what: 'the first message' });
    const start = arrivals()[0]! + 1000; // past the initial burst
    await new Promise((resolve) => setTimeout(resolve, 11_500));
    const inWindow = arrivals().filter((t) => t >= start && t < start + 10_000).length;
    expect(inWindow, `${inWindow} messages in 10 s at 50/s`).toBeGreaterThanOrEqual(450);
    expect(inWindow, `${inWindow} messages in 10 s at 50/s`).toBeLessThanOrEqual(550);
    const byWorker = await db.sql`select count(*)::int as n from deliveries where deployment_id = ${deploymentId} and status = 'sent' group by split_part(claimed_by, '/', 1)`;
    expect(byWorker).toHaveLength(2);
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
  }, 60_000);
});
