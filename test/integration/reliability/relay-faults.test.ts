import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServices, type Services } from '../../../src/app/services.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { createQueues, type Queues } from '../../../src/queue/queues.js';
import { createRedis } from '../../../src/queue/redis.js';
import { createStopAnnouncer } from '../../../src/queue/stop-signal.js';
import { createAccessService } from '../../../src/services/access.js';
import { policyFromConfig } from '../../../src/services/alerts/monitor.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { checkLedger } from '../../support/checker.js';
import { startServe, type ServeProcess } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, ledgerCounts, testConfig, testLogger, waitFor, workerEnv } from '../../support/sending.js';
import { createTestCa, type TestCa } from '../../support/tls-certs.js';

/**
 * A relay as SES, SendGrid or Postmark run one (STARTTLS and a login, a certificate of our test
 * CA, trusted through NODE_EXTRA_CA_CERTS), broken four ways in turn under one `serve --role
 * worker` process: a wrong password, a certificate we do not trust, no listener at all, and no
 * STARTTLS while the URL has credentials. Each time: no recipient is booked `failed`, the sending
 * deployment is paused within RELAY_FAULT_PAUSE_SECONDS (plus a margin for a loaded machine) with
 * one relay-fault alert naming the cause, the password never crosses the wire in clear, and once
 * the relay is fixed and the fault resumed every recipient gets exactly one message.
 */
const PAUSE_SECONDS = 3;
const RECIPIENTS = 40;
const PASSWORD = 'relay-pass-7Qx';

let db: TestDatabase;
let trusted: TestCa;
let rogue: TestCa;
let goodCert: { key: string; cert: string };
let rogueCert: { key: string; cert: string };
let port: number;
let relay: SmtpSink | undefined;
let worker: ServeProcess;
let services: Services;
let queues: Queues;
let closeRedis: () => void;
const logins: { user: string; encrypted: boolean; accepted: boolean }[] = [];
// What the relay received, across its restarts: delivery tag → copies.
const received = new Map<string, number>();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: free } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return free;
}

async function startRelay(mode: { cert: 'good' | 'rogue'; starttls: boolean; password: string }) {
  const { key, cert } = mode.cert === 'good' ? goodCert : rogueCert;
  relay = await startSmtpSink({
    port,
    relay: { key, cert, starttls: mode.starttls, login: (user, pass) => user === 'mailer' && pass === mode.password, onLogin: (attempt) => logins.push(attempt) },
    onMessage: (m) => {
      if (m.delivery) received.set(m.delivery, (received.get(m.delivery) ?? 0) + 1);
    },
  });
}

async function stopRelay() {
  await relay?.close();
  relay = undefined;
}

beforeAll(async () => {
  db = await createTestDatabase();
  [trusted, rogue] = await Promise.all([createTestCa('Relay Test CA'), createTestCa('Someone Else CA')]);
  [goodCert, rogueCert] = await Promise.all([trusted.serverCert('relay'), rogue.serverCert('rogue')]);
  port = await freePort();
  const config = testConfig(db, { SEND_CONCURRENCY: '4' });
  const redis = createRedis(config.redisUrl!, 'test-relay', testLogger);
  const queueConnection = createRedis(config.redisUrl!, 'test-relay-queues', testLogger, { blocking: true });
  queues = createQueues(queueConnection, config.redisPrefix);
  closeRedis = () => {
    redis.disconnect();
    queueConnection.disconnect();
  };
  services = buildServices(db, { announcer: createStopAnnouncer({ redis, prefix: config.redisPrefix, logger: testLogger }), batchQueue: queues.batches, alertDefaults: policyFromConfig(config.alerts), logger: testLogger });
  await createAccessService({ db: db.db, clock: () => new Date() }).grant('U_ONCALL', 'responder', 'test');
  worker = startServe(
    workerEnv(config, db, `smtp://mailer:${PASSWORD}@127.0.0.1:${port}`, {
      NODE_EXTRA_CA_CERTS: trusted.caFile,
      RELAY_FAULT_PAUSE_SECONDS: String(PAUSE_SECONDS),
      SMTP_TIMEOUT_SECONDS: '5',
      LOG_LEVEL: 'info',
    }),
    ['--role', 'worker'],
  );
  // The pause is timed from the campaign's creation: the worker must be up by then.
  await waitFor(async () => /sending runtime started/.test(worker.output().stdout + worker.output().stderr), { timeoutMs: 60_000, what: 'the worker to start' });
}, 90_000);

afterAll(async () => {
  await worker?.stop('SIGTERM', 30_000);
  await stopRelay();
  await services?.close();
  await queues?.close();
  closeRedis?.();
  await Promise.all([trusted?.remove(), rogue?.remove()]);
  await db?.drop();
});

const scenarios = [
  { name: 'a wrong password', broken: { cert: 'good', starttls: true, password: 'rotated-elsewhere' }, cause: /^relay refused our login: 535 5\.7\.8 Authentication credentials invalid/ },
  { name: 'a certificate we do not trust', broken: { cert: 'rogue', starttls: true, password: PASSWORD }, cause: /^TLS with the relay failed: .*certificate/i },
  { name: 'a relay that refuses connections', broken: undefined, cause: /^relay refused the connection: .*ECONNREFUSED/ },
  { name: 'no STARTTLS while the URL has credentials', broken: { cert: 'good', starttls: false, password: PASSWORD }, cause: /^relay does not offer TLS.*the login was not sent/ },
] as const;

describe('a relay that fails as a whole', () => {
  it.each(scenarios)('$name: nobody failed, paused with one alert naming it, password never in clear; fixed and resumed, each recipient gets one message', async ({ broken, cause }) => {
    if (broken) await startRelay(broken);
    try {
      await brokenThenFixed(cause);
    } catch (error) {
      // What the worker said is the first thing to read when this fails.
      console.error(worker.output().stderr.slice(-20000));
      const [deployments, batches, jobs] = await Promise.all([
        db.sql`select id, status, generation, in_flight_count, sent_count from deployments`,
        db.sql`select id, status, triggered_generation, in_flight_count, sent_count, total_count from batches`,
        queues.send.getJobCounts(),
      ]);
      console.error(JSON.stringify({ deployments, batches, jobs }));
      throw error;
    } finally {
      await stopRelay();
    }
  }, 120_000);

  it('a second resume of the same fault says who resumed it', async () => {
    const [fault] = await db.sql<{ id: string }[]>`select id from relay_faults where state = 'resumed' limit 1`;
    const outcome = await services.control.resume({ target: fault!.id, actor: 'U_ONCALL' });
    expect(outcome).toMatchObject({ outcome: 'not_allowed', why: expect.stringMatching(/^it was already resumed by U_ONCALL at /) });
  });
});

/** One scenario, the relay broken: the pause and its alert; then the relay fixed and the fault resumed. */
async function brokenThenFixed(cause: RegExp) {
    const loginsBefore = logins.length;
    const started = Date.now();
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(RECIPIENTS) });
    const id = deploymentIds[0]!;
    try {
      const paused = await waitFor(async () => {
        const row = await deploymentRow(db, id);
        return row.status === 'paused' && row;
      }, { timeoutMs: 60_000, what: 'the relay fault to pause the deployment' });
      // From the campaign's creation: prefetch and the first attempt come first, then the configured time.
      expect(new Date(paused.paused_at as string).getTime() - started).toBeLessThan((PAUSE_SECONDS + 10) * 1000);
      expect(paused.paused_by).toBe('campaign-guard');
    } finally {
      // (the caller prints the worker's log on failure)
    }

    expect(await ledgerCounts(db, id)).toEqual({ pending: RECIPIENTS });
    const faults = await db.sql<{ id: string; cause: string; state: string; deployment_ids: string[] }[]>`select id, cause, state, deployment_ids from relay_faults where ${id} = any(deployment_ids)`;
    expect(faults).toHaveLength(1);
    expect(faults[0]!.state).toBe('open');
    expect(faults[0]!.cause).toMatch(cause);
    const alerts = await db.sql`select kind from slack_outbox where alert_id = ${faults[0]!.id} and kind = 'post'`;
    expect(alerts).toHaveLength(1);
    // Slack is off in the worker: the fault is in its log at warn, with its cause.
    expect(worker.output().stderr).toMatch(new RegExp(`"level":40.*paused 1 sending deployment.*${faults[0]!.id}`));
    // The relay never saw the password over an unencrypted session.
    expect(logins.slice(loginsBefore).filter((l) => !l.encrypted)).toEqual([]);

    await stopRelay();
    await startRelay({ cert: 'good', starttls: true, password: PASSWORD });
    const outcome = await services.control.resume({ target: faults[0]!.id, actor: 'U_ONCALL' });
    expect(outcome).toMatchObject({ outcome: 'resumed', deploymentIds: [id] });
    await waitFor(async () => (await deploymentRow(db, id)).status === 'completed', { timeoutMs: 30_000, what: 'the resumed send to complete' });

    const check = await checkLedger(db, id, { ...relay!, byDelivery: received });
    expect(check).toMatchObject({ total: RECIPIENTS, byStatus: { sent: RECIPIENTS }, duplicates: 0, lost: 0, phantom: 0, booksMatch: true });
    expect([...received.keys()].filter((tag) => tag.startsWith(`${id}.`))).toHaveLength(RECIPIENTS);
    const [closed] = await db.sql`select state, resumed_by from relay_faults where id = ${faults[0]!.id}`;
    expect(closed).toEqual({ state: 'resumed', resumed_by: 'U_ONCALL' });
}
