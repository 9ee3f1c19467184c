import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/lib/embedded/redis.js';
import { openAlertForTest } from '../support/alerts.js';
import { audienceCsv, createCampaignOrThrow } from '../support/builders.js';
import { waitFor } from '../support/sending.js';
import { buttonClick, sendSigned, viewSubmission } from '../support/slack.js';
import { startSlackStack, type SlackStack } from './harness.js';

/**
 * I11: a responder cancels from Slack while Redis is frozen or dead. Postgres decides, so the
 * cancel succeeds within Slack's 3 s, the modal closes, and the alert and its thread say so;
 * telling the workers (Redis) waits until Redis is back. The app runs on a Redis of this file's own.
 */
let stack: SlackStack;
let redis: EmbeddedRedis;
let dir: string;
const ALICE = 'U0ALICE001';
const redisPid = async () => Number((await readFile(path.join(dir, 'redis.pid'), 'utf8')).trim());

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cg-e2e-redis-down-'));
  redis = await startEmbeddedRedis({ dir });
  stack = await startSlackStack({ REDIS_URL: redis.url });
  await stack.app.services.access.grant(ALICE, 'responder', 'test');
});
afterAll(async () => {
  await stack?.stop();
  await redis?.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const blocksOf = (args: Record<string, unknown>) => JSON.stringify(args.blocks ?? []);

/** A scheduled deployment with an alert posted in the channel; returns the alert message's ts. */
async function alertedDeployment(name: string) {
  const { deploymentIds } = await createCampaignOrThrow(stack.db, { name, csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) });
  const dep = deploymentIds[0]!;
  const alertId = await openAlertForTest(stack.db, dep);
  stack.app.notifier!.kick();
  const ts = (await waitFor(async () => (await stack.db.sql`select slack_ts from alerts where id = ${alertId}`)[0]!.slack_ts as string | null, { what: 'the alert post' })) as string;
  return { dep, ts };
}

/** Click → modal → submit, as the responder does; the submit's answer. */
async function cancelFromSlack(dep: string, ts: string) {
  const clicked = await sendSigned(stack.base, buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, ALICE, { ts }));
  expect(clicked.status).toBe(200);
  expect(clicked.ms).toBeLessThan(3000);
  const open = await stack.slack.waitFor(() => stack.slack.ok('views.open').find((c) => JSON.stringify(c.args.view).includes(dep)), 5000, 'the cancel modal');
  const privateMetadata = (open.args.view as { private_metadata: string }).private_metadata;
  return sendSigned(stack.base, viewSubmission({ id: `V0${dep.slice(-8)}`, privateMetadata, reason: 'Redis is down' }, ALICE));
}

/** The cancel happened in Postgres, once, and Slack was told: the alert edited without buttons, the thread confirmation. */
async function expectCancelledAndSaid(dep: string, ts: string) {
  expect(await stack.db.sql`select status, cancelled_by from deployments where id = ${dep}`).toEqual([{ status: 'cancelled', cancelled_by: ALICE }]);
  expect(await stack.db.sql`select count(*)::int as n from audit_log where target_id = ${dep} and action = 'cancel' and outcome = 'ok'`).toEqual([{ n: 1 }]);
  const edit = await stack.slack.waitFor(() => stack.slack.ok('chat.update').find((c) => c.args.ts === ts && blocksOf(c.args).includes('*Cancelled*')), 10_000, 'the alert edit');
  expect(blocksOf(edit.args)).not.toContain('"type":"actions"');
  const reply = await stack.slack.waitFor(() => stack.slack.ok('chat.postMessage').find((c) => c.args.thread_ts === ts && String(c.args.text).includes(`Cancelled ${dep}`)), 10_000, 'the thread confirmation');
  expect(String(reply.args.text)).toContain('This cannot be undone');
}

describe('I11: a cancel from Slack while Redis is down', () => {
  it('I11: Redis frozen (SIGSTOP): the submit succeeds within 3 s, the alert and its thread say cancelled', async () => {
    const { dep, ts } = await alertedDeployment('Redis frozen');
    const pid = await redisPid();
    process.kill(pid, 'SIGSTOP');
    try {
      const submitted = await cancelFromSlack(dep, ts);
      expect(submitted.ms).toBeLessThan(3000);
      // An empty answer closes the modal: the cancel is done.
      expect(submitted.text).toBe('');
      await expectCancelledAndSaid(dep, ts);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  it('I11: Redis killed: the submit succeeds within 3 s, the alert and its thread say cancelled; the app carries on once Redis is back', async () => {
    const { dep, ts } = await alertedDeployment('Redis killed');
    const port = Number(new URL(redis.url).port);
    process.kill(await redisPid(), 'SIGKILL');
    try {
      const submitted = await cancelFromSlack(dep, ts);
      expect(submitted.ms).toBeLessThan(3000);
      expect(submitted.text).toBe('');
      await expectCancelledAndSaid(dep, ts);
      // Redis really was gone all along: the app says it is not ready.
      expect((await fetch(`${stack.base}/readyz`)).status).toBe(503);
    } finally {
      redis = await startEmbeddedRedis({ dir, port });
    }
    await waitFor(async () => (await fetch(`${stack.base}/readyz`)).status === 200, { what: 'ready again with Redis back' });
  });
});
