import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { createStopAnnouncer } from '../../../src/queue/stop-signal.js';
import { createAccessService } from '../../../src/services/access.js';
import { createControlService } from '../../../src/services/control.js';
import { createPauseResume } from '../../../src/services/sending/pause-resume.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { startServe, type ServeProcess } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, testConfig, testLogger, waitFor, workerEnv } from '../../support/sending.js';

/** DESIGN §3's promise: once a cancel commits, at most the messages already on the wire arrive. */
let db: TestDatabase;
let sink: SmtpSink;
const processes: ServeProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
  await createAccessService({ db: db.db, clock: () => new Date() }).grant('U_ONCALL', 'responder', 'test');
});
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGTERM', 30_000)));
});
afterAll(async () => {
  await sink.close();
  await db.drop();
});

async function cancelUnderLoad(freezeRedis: boolean) {
  const lanes = 4;
  const config = testConfig(db, { SEND_CONCURRENCY: String(lanes), SEND_RATE_PER_SECOND: '100000' });
  const env = workerEnv(config, db, sink.url);
  processes.push(startServe(env, ['--role', 'worker']), startServe(env, ['--role', 'worker']));
  const redis = new Redis(config.redisUrl!);
  const control = new Redis(config.redisUrl!);
  const announcer = createStopAnnouncer({ redis, prefix: config.redisPrefix, logger: testLogger });
  const service = createControlService({ database: db, announcer, pauseResume: createPauseResume({ database: db, announcer }), logger: testLogger });
  try {
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(20_000, { domain: () => (freezeRedis ? 'frozen.example' : 'full.example') }) });
    const deploymentId = deploymentIds[0]!;
    await waitFor(async () => Number((await deploymentRow(db, deploymentId)).sent_count) >= 1000, { timeoutMs: 60_000, what: 'full-speed sending' });
    if (freezeRedis) await control.call('CLIENT', 'PAUSE', '3000', 'ALL');
    const started = Date.now();
    const outcome = await service.cancel({ target: deploymentId, actor: 'U_ONCALL' });
    const committed = Date.now();
    expect(outcome.outcome).toBe('cancelled');
    expect(committed - started).toBeLessThan(freezeRedis ? 3000 : 1000);
    await new Promise((resolve) => setTimeout(resolve, freezeRedis ? 4500 : 2000));
    const arrivals = sink.received.filter((m) => m.delivery?.startsWith(`${deploymentId}.`)).map((m) => m.at);
    const late = arrivals.filter((t) => t > committed);
    expect(late.length, `${late.length} messages arrived after the cancel committed`).toBeLessThanOrEqual(2 * lanes);
    expect(late.filter((t) => t > committed + 1000)).toEqual([]);
    const row = await deploymentRow(db, deploymentId);
    expect(row.status).toBe('cancelled');
    expect(Number(row.sent_count)).toBe(arrivals.length);
  } finally {
    redis.disconnect();
    control.disconnect();
  }
}

describe('cancel with two workers sending at full speed', () => {
  it('lets no more than the in-flight slots reach the sink after the commit, none later than 1 s', async () => {
    await cancelUnderLoad(false);
  }, 120_000);

  it('does the same while Redis is frozen (CLIENT PAUSE) during the cancel', async () => {
    await cancelUnderLoad(true);
  }, 120_000);
});
