import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { audienceCsv, createCampaignOrThrow } from '../support/builders.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { buttonClick, commandBody, sendSigned, viewSubmission } from '../support/slack.js';
import { startSlackStack, type SlackStack } from './harness.js';

/**
 * A Cancel click and its confirmation when something between the responder and Postgres fails:
 * Slack refuses the modal's trigger (I9), Postgres is down or does not answer (I10). The responder
 * is always answered within Slack's 3 s, never told of a cancel that did not happen, and nothing
 * changes: no cancel, no audit row, no Slack outbox row, even once Postgres answers again.
 * The app reaches Postgres through a fault proxy the tests switch.
 */
let stack: SlackStack;
let proxy: FaultProxy;
const ALICE = 'U0ALICE001';

beforeAll(async () => {
  const admin = new URL(inject('databaseAdminUrl'));
  proxy = await startFaultProxy({ host: admin.hostname, port: Number(admin.port) });
  stack = await startSlackStack({}, {
    databaseUrl: (url) => {
      const through = new URL(url);
      through.host = `127.0.0.1:${proxy.port}`;
      return through.toString();
    },
  });
  await stack.app.services.access.grant(ALICE, 'responder', 'test');
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
});

/**
 * Postgres answers again: the proxy lets connections through, and the app says it is ready (its
 * pool reconnects after a short backoff, answering "cannot … right now" at once meanwhile).
 */
async function backAndReady() {
  proxy.set('pass');
  const deadline = Date.now() + 5000;
  while ((await fetch(`${stack.base}/readyz`).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() > deadline) throw new Error('the app was not ready within 5 s of Postgres answering again');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let views = 0;
async function scheduledDeployment(name: string) {
  const { deploymentIds } = await createCampaignOrThrow(stack.db, { name, csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) });
  return deploymentIds[0]!;
}
// Each click on a message of its own: two clicks on one message within 500 ms are a double click (one answer).
let messages = 0;
const click = (dep: string) => sendSigned(stack.base, buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, ALICE, { ts: `1767225600.${String(++messages).padStart(6, '0')}` }));
const modalsFor = (dep: string) => stack.slack.ok('views.open').filter((c) => JSON.stringify(c.args.view).includes(dep));
const ephemeralsFor = (dep: string, after: number) => stack.slack.ok('chat.postEphemeral').filter((c) => c.at >= after && c.args.user === ALICE);

/** Clicks Cancel and returns what the modal's submit needs. */
async function openModal(dep: string) {
  const before = modalsFor(dep).length;
  expect((await click(dep)).status).toBe(200);
  const call = await stack.slack.waitFor(() => modalsFor(dep)[before], 5000, 'the cancel modal');
  return { id: `V0FAULT${String(++views).padStart(3, '0')}`, privateMetadata: (call.args.view as { private_metadata: string }).private_metadata };
}
const submit = (modal: { id: string; privateMetadata: string }, reason: string) => sendSigned(stack.base, viewSubmission({ ...modal, reason }, ALICE));

/** Nothing a cancel writes was written: the deployment is as created, no audit row, no outbox row. */
async function expectUnchanged(dep: string) {
  expect(await stack.db.sql`select status, cancelled_by from deployments where id = ${dep}`).toEqual([{ status: 'scheduled', cancelled_by: null }]);
  expect(await stack.db.sql`select action, outcome from audit_log where target_id = ${dep}`).toEqual([]);
  expect(await stack.db.sql`select kind from slack_outbox`).toEqual([]);
}

/** Once Postgres answers again, a retry through Slack cancels, once. */
async function expectRetryCancels(dep: string) {
  const modal = await openModal(dep);
  const res = await submit(modal, 'retry');
  expect(res.text).toBe('');
  expect(await stack.db.sql`select status, cancelled_by from deployments where id = ${dep}`).toEqual([{ status: 'cancelled', cancelled_by: ALICE }]);
  expect(await stack.db.sql`select reason from audit_log where target_id = ${dep} and action = 'cancel' and outcome = 'ok'`).toEqual([{ reason: 'retry' }]);
  await stack.db.sql`delete from slack_outbox`;
}

describe('a cancel when Slack or Postgres fails', () => {
  it('I9: Slack refuses views.open (expired_trigger_id): the clicker gets the ephemeral fallback, nothing is cancelled', async () => {
    const dep = await scheduledDeployment('Expired trigger');
    stack.slack.fail('views.open', { error: 'expired_trigger_id' });
    const clicked = Date.now();
    expect((await click(dep)).status).toBe(200);
    const told = await stack.slack.waitFor(() => ephemeralsFor(dep, clicked).find((c) => String(c.args.text).includes(dep)), 5000, 'the fallback');
    expect(String(told.args.text)).toMatch(/did not open the confirmation in time, so nothing was cancelled/);
    expect(String(told.args.text)).toContain(`/campaign cancel ${dep}`);
    expect(stack.slack.calls.filter((c) => c.method === 'views.open').at(-1)!.status).toBe(200);
    expect(modalsFor(dep)).toHaveLength(1); // the refused call, recorded by the fake; no second attempt
    await expectUnchanged(dep);
  });

  it('I10: Postgres down (connections reset and refused): click and submit answered "cannot … right now" within 3 s; nothing changed once it is back', async () => {
    const dep = await scheduledDeployment('Postgres down');
    const modal = await openModal(dep);
    proxy.set('reset');
    proxy.set('refuse');
    try {
      const clicked = Date.now();
      const res = await click(dep);
      expect(res.status).toBe(200);
      const told = await stack.slack.waitFor(() => ephemeralsFor(dep, clicked)[0], 3000, 'the answer to the click');
      expect(told.at - clicked).toBeLessThan(3000);
      expect(String(told.args.text)).toMatch(/cannot answer right now.*Retry/);
      expect(modalsFor(dep)).toHaveLength(1);

      const submitted = await submit(modal, 'while down');
      expect(submitted.ms).toBeLessThan(3000);
      expect(submitted.json).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringMatching(/cannot cancel right now.*Retry/) } });
    } finally {
      await backAndReady();
    }
    await expectUnchanged(dep);
    await expectRetryCancels(dep);
  });

  it('I10: Postgres down: /campaign status is answered "cannot answer right now" within 3 s, and the true status once it is back', async () => {
    const dep = await scheduledDeployment('Status while down');
    proxy.set('reset');
    proxy.set('refuse');
    const asked = Date.now();
    try {
      const res = await sendSigned(stack.base, commandBody(`status ${dep}`, ALICE, { responseUrl: stack.slack.responseUrl('status-down') }));
      expect(res.status).toBe(200);
      const answer = res.json?.text ?? (await stack.slack.waitFor(() => stack.slack.responses.find((r) => r.path.endsWith('/status-down'))?.body as { text?: string } | undefined, 3000, 'the answer')).text;
      expect(Date.now() - asked).toBeLessThan(3000);
      expect(String(answer)).toMatch(/cannot answer right now.*Retry/);
    } finally {
      await backAndReady();
    }
    const again = await sendSigned(stack.base, commandBody(`status ${dep}`, ALICE, { responseUrl: stack.slack.responseUrl('status-back') }));
    const report = again.json?.text ? again.json : (await stack.slack.waitFor(() => stack.slack.responses.find((r) => r.path.endsWith('/status-back')), 3000, 'the status once back')).body;
    expect(JSON.stringify(report)).toContain('Status while down');
  });

  it('I10: Postgres not answering (frozen link): click and submit answered "cannot … right now" within 3 s; nothing changed once it answers', async () => {
    const dep = await scheduledDeployment('Postgres frozen');
    const modal = await openModal(dep);
    proxy.set('blackhole');
    try {
      const clicked = Date.now();
      expect((await click(dep)).status).toBe(200);
      const told = await stack.slack.waitFor(() => ephemeralsFor(dep, clicked)[0], 3000, 'the answer to the click');
      expect(told.at - clicked).toBeLessThan(3000);
      expect(String(told.args.text)).toMatch(/cannot answer right now.*Retry/);

      const submitted = await submit(modal, 'while frozen');
      expect(submitted.ms).toBeLessThan(3000);
      expect(submitted.json).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringMatching(/cannot cancel right now/) } });
    } finally {
      // The swallowed queries never get an answer: drop those connections, then let new ones through.
      proxy.set('reset');
      await backAndReady();
    }
    await expectUnchanged(dep);
    await expectRetryCancels(dep);
  });

  it('I10: a submit whose cancel Postgres does not answer in time (its row locked elsewhere): "cannot cancel right now", and the cancel does not land when the lock goes', async () => {
    const dep = await scheduledDeployment('Row locked');
    const modal = await openModal(dep);
    let unlock!: () => void;
    let locked!: () => void;
    const held = new Promise<void>((resolve) => (locked = resolve));
    const holder = stack.db.sql.begin(async (tx) => {
      await tx`select id from deployments where id = ${dep} for update`;
      locked();
      await new Promise<void>((resolve) => (unlock = resolve));
    });
    await held;
    let submitted;
    try {
      submitted = await submit(modal, 'while locked');
    } finally {
      unlock();
      await holder;
    }
    expect(submitted.ms).toBeLessThan(3000);
    expect(submitted.json).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringMatching(/cannot cancel right now/) } });
    // Row locks are granted in turn: once this one is ours, the app's transaction has ended, one way or the other.
    await stack.db.sql.begin((tx) => tx`select id from deployments where id = ${dep} for update`);
    await expectUnchanged(dep);
    await expectRetryCancels(dep);
  });
});
