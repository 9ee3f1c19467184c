import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { checkLedger } from '../../support/checker.js';
import { startServe, type ServeProcess } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, testConfig, waitFor, workerEnv } from '../../support/sending.js';

/** SIGTERM during a send: the worker stops claiming, lets what is on the wire finish, records it, and exits; the next start carries on. */
let db: TestDatabase;
let sink: SmtpSink;
const processes: ServeProcess[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
  // A slow receiver, so messages are on the wire when the signal arrives.
  sink = await startSmtpSink({ faultFor: () => ({ delayMs: 15 }) });
});
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL', 10_000)));
});
afterAll(async () => {
  await sink.close();
  await db.drop();
});

describe('graceful shutdown', () => {
  // O1 (issue 19, finding 6): SIGHUP (and SIGQUIT) stop as gracefully as SIGTERM; Node's default for SIGHUP was to die at once, leaving claims `unknown`.
  it.each(['SIGTERM', 'SIGHUP', 'SIGQUIT'] as const)('O1: exits within 30 s of %s mid-send with nothing unknown, and the next start finishes with no duplicates', async (signal) => {
    const config = testConfig(db, { SEND_CONCURRENCY: '4', SEND_RATE_PER_SECOND: '200', SEND_LEASE_SECONDS: '5' });
    const env = workerEnv(config, db, sink.url);
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(800, { domain: () => 'graceful.example' }) });
    const id = deploymentIds[0]!;
    const first = startServe(env, ['--role', 'worker']);
    processes.push(first);
    await waitFor(async () => (await deploymentRow(db, id)).sent_count >= 150, { what: 'sending under way', timeoutMs: 60_000 });

    const signalled = Date.now();
    const exit = await first.stop(signal, 30_000);
    expect(exit.timedOut).toBe(false);
    expect(exit.code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(30_000);
    const afterStop = await deploymentRow(db, id);
    expect(afterStop).toMatchObject({ in_flight_count: 0, unknown_count: 0 });
    expect(afterStop.sent_count).toBeLessThan(800);

    const second = startServe(env, ['--role', 'worker']);
    processes.push(second);
    await waitFor(async () => (await deploymentRow(db, id)).status === 'completed', { what: 'the send to finish after the restart', timeoutMs: 60_000 });
    const check = await checkLedger(db, id, sink);
    expect(check).toMatchObject({ total: 800, duplicates: 0, lost: 0, phantom: 0, unknown: 0, booksMatch: true });
  }, 120_000);
});
