import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audienceCsv, createCampaignOrThrow } from '../support/builders.js';
import { buttonClick, sendSigned, viewSubmission } from '../support/slack.js';
import { startSlackStack, type SlackStack } from './harness.js';

/**
 * Buttons and the confirmation modal under bad input (catalogue I2, I4, I6, I7), through signed
 * requests to the running app: each either acts exactly once or changes nothing.
 */
let stack: SlackStack;
const ALICE = 'U0ALICE001';

beforeAll(async () => {
  stack = await startSlackStack();
  await stack.app.services.access.grant(ALICE, 'responder', 'test');
});
afterAll(async () => {
  await stack?.stop();
});

async function scheduled(name: string) {
  return (await createCampaignOrThrow(stack.db, { name, csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) })).deploymentIds[0]!;
}

const modalsAbout = (dep: string) => stack.slack.ok('views.open').filter((c) => JSON.stringify(c.args.view).includes(dep));
const statusOf = async (dep: string) => (await stack.db.sql`select status from deployments where id = ${dep}`)[0]!.status as string;
const auditOf = (dep: string) => stack.db.sql`select actor, action, outcome from audit_log where target_id = ${dep} order by id`;

async function openModal(dep: string, ts: string) {
  await sendSigned(stack.base, buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, ALICE, { ts }));
  const call = await stack.slack.waitFor(() => modalsAbout(dep).at(-1));
  return (call.args.view as { private_metadata: string }).private_metadata;
}

describe('the same responder twice', () => {
  it('I2: a double click (two requests within 100 ms) opens one modal; a double Pause pauses once and answers once', async () => {
    const dep = await scheduled('Double click');
    const click = () => sendSigned(stack.base, buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, ALICE, { ts: '1767225600.000200' }));
    const [a, b] = await Promise.all([click(), new Promise((r) => setTimeout(r, 40)).then(click)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await stack.slack.waitFor(() => modalsAbout(dep)[0]);
    await new Promise((r) => setTimeout(r, 300));
    expect(modalsAbout(dep)).toHaveLength(1);

    const pause = () => sendSigned(stack.base, buttonClick({ actionId: 'pause_deployment', value: `v1:${dep}` }, ALICE, { ts: '1767225600.000200' }));
    await Promise.all([pause(), new Promise((r) => setTimeout(r, 40)).then(pause)]);
    await stack.slack.waitFor(() => stack.slack.ok('chat.postEphemeral').find((c) => String(c.args.text).includes(`Paused ${dep}`)));
    await new Promise((r) => setTimeout(r, 300));
    expect(stack.slack.ok('chat.postEphemeral').filter((c) => String(c.args.text).includes(dep))).toHaveLength(1);
    expect(await auditOf(dep)).toEqual([{ actor: ALICE, action: 'pause', outcome: 'ok' }]);
  });

  it('I2: the same responder submits two confirmations at once: one cancel, one audit row, one confirmation; both modals close', async () => {
    const dep = await scheduled('Double submit');
    const first = await openModal(dep, '1767225600.000300');
    const second = await openModal(dep, '1767225600.000301');
    const [a, b] = await Promise.all([
      sendSigned(stack.base, viewSubmission({ id: 'V0DOUBLE001', privateMetadata: first }, ALICE)),
      sendSigned(stack.base, viewSubmission({ id: 'V0DOUBLE002', privateMetadata: second }, ALICE)),
    ]);
    expect([a.status, a.text, b.status, b.text]).toEqual([200, '', 200, '']);
    expect(await statusOf(dep)).toBe('cancelled');
    expect(await auditOf(dep)).toEqual([{ actor: ALICE, action: 'cancel', outcome: 'ok' }]);
    await stack.slack.waitFor(() => stack.slack.ok('chat.postMessage').find((c) => String(c.args.text).includes(`Cancelled ${dep}`)));
    await new Promise((r) => setTimeout(r, 400));
    expect(stack.slack.ok('chat.postMessage').filter((c) => String(c.args.text).includes(`Cancelled ${dep}`))).toHaveLength(1);
  });
});

describe('the confirmation and what the buttons carry', () => {
  it('I6: a typed confirmation that does not match is an error on its field, and nothing is cancelled', async () => {
    const dep = await scheduled('Confirm me');
    const metadata = await openModal(dep, '1767225600.000400');
    const field = stack.slack.ok('views.open').at(-1)!.args.view as { blocks: { block_id?: string; label?: { text: string } }[] };
    expect(field.blocks.at(-1)).toMatchObject({ block_id: 'confirm', label: { text: 'Type CANCEL to confirm' } });
    for (const confirm of [null, '', 'cancle', 'CANCEL IT', 'Confirm me']) {
      const res = await sendSigned(stack.base, viewSubmission({ id: 'V0CONFIRM01', privateMetadata: metadata, confirm }, ALICE));
      expect(res.json).toEqual({ response_action: 'errors', errors: { confirm: 'Type CANCEL to confirm. Nothing was cancelled.' } });
    }
    expect(await statusOf(dep)).toBe('scheduled');
    expect(await auditOf(dep)).toEqual([]);
    const res = await sendSigned(stack.base, viewSubmission({ id: 'V0CONFIRM01', privateMetadata: metadata, confirm: 'cancel' }, ALICE));
    expect(res.text).toBe('');
    expect(await statusOf(dep)).toBe('cancelled');
  });

  it('I4 I7: a button value of another version, or altered, and altered private_metadata are refused, audited, and change nothing', async () => {
    const dep = await scheduled('Tampered');
    const toldAlice = () => stack.slack.ok('chat.postEphemeral').filter((c) => c.args.user === ALICE);
    for (const value of [`v2:${dep}`, JSON.stringify({ v: 2, deployment: dep }), `v1:${dep}' OR '1'='1`]) {
      const before = toldAlice().length;
      await sendSigned(stack.base, buttonClick({ actionId: 'cancel_deployment', value }, ALICE));
      const told = await stack.slack.waitFor(() => toldAlice()[before]);
      expect(told.args.text).toBe('This button is from another version of Campaign Guard, or was altered, so nothing was done. Use `/campaign status` to find the deployment.');
    }
    const metadata = JSON.parse(await openModal(dep, '1767225600.000500')) as Record<string, unknown>;
    for (const altered of [{ ...metadata, v: 2 }, { ...metadata, target: `${dep}; drop table deployments` }, { ...metadata, deploymentId: 'dep_../../x' }]) {
      const res = await sendSigned(stack.base, viewSubmission({ id: 'V0ALTERED01', privateMetadata: JSON.stringify(altered) }, ALICE));
      expect(res.json).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringContaining('or was altered, so nothing was cancelled') } });
    }
    expect(await statusOf(dep)).toBe('scheduled');
    expect(await auditOf(dep)).toEqual([]);
    // Audited, after the answer: what could not be read is recorded, not acted on.
    const refusals = () => stack.db.sql<{ action: string; reason: string }[]>`select action, reason from audit_log where actor = ${ALICE} and outcome = 'refused' order by id`;
    const deadline = Date.now() + 5000;
    while ((await refusals()).length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const audited = await refusals();
    expect(audited.map((r) => `${r.action} ${r.reason.split(':')[0]}`)).toEqual([
      ...Array.from({ length: 3 }, () => 'slack.cancel button value not understood'),
      ...Array.from({ length: 3 }, () => 'slack.cancel form metadata not understood'),
    ]);
    expect(audited[0]!.reason).toBe(`button value not understood: v2:${dep}`);
  });
});
