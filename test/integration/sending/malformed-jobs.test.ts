import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../../../src/queue/jobs.js';
import { createQueues, type Queues } from '../../../src/queue/queues.js';
import { createRedis, type RedisClient } from '../../../src/queue/redis.js';
import { startSendingWorkers, type SendingProcessors, type SendingWorkers } from '../../../src/queue/workers.js';
import { redisUrl, uniquePrefix } from '../../support/database.js';
import { waitFor } from '../../support/sending.js';

/**
 * A job whose payload does not parse fails at its first attempt (BullMQ's UnrecoverableError):
 * the same bytes would fail the same way on each of the queue's five attempts, each logged. Real
 * Redis and BullMQ; the queues are the production ones (attempts 5, exponential backoff from 1 s,
 * failed jobs removed), so a retried job would sit `delayed` after its first failure.
 */
const lines: { msg: string; queue?: string; jobId?: string }[] = [];
const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => void (lines.push(JSON.parse(String(chunk))), done()) }));

const called = { prefetch: [] as string[], trigger: [] as string[], send: [] as string[] };
const processors: SendingProcessors = {
  prefetch: async (deploymentId) => (called.prefetch.push(deploymentId), 'not-due'),
  schedule: async () => undefined,
  trigger: async (job) => (called.trigger.push(job.batchId), { started: false, reason: 'not-sendable' }),
  send: async (job) => (called.send.push(job.batchId), { handedOver: 0, released: 0, finished: true }),
};

let connection: RedisClient;
let workerConnection: RedisClient;
let queues: Queues;
let workers: SendingWorkers;
beforeAll(async () => {
  const prefix = uniquePrefix('malformed');
  connection = createRedis(redisUrl(), 'test-malformed-queues', logger, { blocking: true });
  workerConnection = createRedis(redisUrl(), 'test-malformed-workers', logger, { blocking: true });
  queues = createQueues(connection, prefix);
  workers = startSendingWorkers({ connection: workerConnection, prefix, leaseSeconds: 30, processors, shuttingDown: () => false, logger });
});
afterAll(async () => {
  await workers.close();
  await queues.close();
  connection.disconnect();
  workerConnection.disconnect();
});

const valid = {
  prefetch: { deploymentId: 'dep_good000001' },
  batches: { batchId: 'bat_good000001', deploymentId: 'dep_good000001', generation: 1 },
  send: { deploymentId: 'dep_good000001', batchId: 'bat_good000001', fromSeq: 1, toSeq: 250, generation: 1, lastSeq: 250 },
};
const malformed = {
  prefetch: { deployment: 'dep_bad0000001' },
  batches: { batchId: 'bat_bad0000001', deploymentId: 'dep_bad0000001', generation: 'one' },
  send: { deploymentId: 'dep_bad0000001', batchId: 'bat_bad0000001', fromSeq: 1 },
};

describe('a malformed job payload', () => {
  it.each(['prefetch', 'batches', 'send'] as const)('%s: fails after one attempt, is not retried, and is logged once; a valid job beside it runs', async (name) => {
    const queue = queues[name] as unknown as { add(name: string, data: unknown, opts: { jobId: string }): Promise<unknown>; getJobState(id: string): Promise<string> };
    const badId = `bad-${name}`;
    await queue.add(name, malformed[name], { jobId: badId });
    await queue.add(name, valid[name], { jobId: `good-${name}` });

    // Its first attempt ends it: failed and removed, not put back to wait for a retry.
    const settled = await waitFor(async () => {
      const state = await queue.getJobState(badId);
      return state === 'unknown' || state === 'delayed' || state === 'failed' ? state : undefined;
    }, { what: `the ${name} job's first attempt`, everyMs: 10 });
    expect(settled).toBe('unknown');
    const processed = name === 'batches' ? called.trigger : called[name];
    await waitFor(async () => processed.length > 0, { what: `the valid ${name} job` });

    // Past the first backoff (1 s): no second attempt happened.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await queue.getJobState(badId)).toBe('unknown');
    // One line per attempt that read the payload: one attempt.
    const attempts = lines.filter((line) => line.jobId === badId && line.msg.startsWith('malformed '));
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ queue: QUEUES[name] });
    expect(attempts[0]!.msg).toMatch(new RegExp(`^malformed ${QUEUES[name]} job payload: \\S+ `));
    expect(processed.every((id) => !id.includes('bad'))).toBe(true);
  });
});
