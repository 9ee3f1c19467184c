import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackSignature } from '../../src/slack/signature.js';
import { audienceCsv, createCampaignOrThrow } from '../support/builders.js';
import { postChunked, rawPost } from '../support/front-door.js';
import { buttonClick, FORM, postSlack, SECRET, sendSigned, signedHeaders, viewSubmission } from '../support/slack.js';
import { startSlackStack, type SlackStack } from './harness.js';

/**
 * The transport cases of the bad-input catalogue against the running app, with a request that
 * would do harm if it got through: a responder's confirmed Cancel. Every mangled copy of it is
 * refused (or answered and not dispatched) and changes nothing: the deployment is not cancelled,
 * no audit row, no Slack outbox row. At the end the intact request does cancel, so the refusals
 * were not an accident of a request that could never work.
 */
let stack: SlackStack;
let dep: string;
let confirm: string;
const ALICE = 'U0ALICE001';

beforeAll(async () => {
  stack = await startSlackStack();
  await stack.app.services.access.grant(ALICE, 'responder', 'test');
  dep = (await createCampaignOrThrow(stack.db, { name: 'Guarded', csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) })).deploymentIds[0]!;
  expect((await sendSigned(stack.base, buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, ALICE))).status).toBe(200);
  const open = await stack.slack.waitFor(() => stack.slack.ok('views.open').find((c) => JSON.stringify(c.args.view).includes(dep)), 5000, 'the cancel modal');
  confirm = viewSubmission({ id: 'V0GUARD001', privateMetadata: (open.args.view as { private_metadata: string }).private_metadata, reason: 'transport' }, ALICE);
});
afterAll(async () => {
  await stack?.stop();
});

const now = () => Math.floor(Date.now() / 1000);
const post = (body: string, headers: Record<string, string>) => postSlack(stack.base, body, headers);

async function expectNothingChanged() {
  expect(await stack.db.sql`select status, cancelled_by from deployments where id = ${dep}`).toEqual([{ status: 'scheduled', cancelled_by: null }]);
  expect(await stack.db.sql`select action, outcome from audit_log where target_id = ${dep}`).toEqual([]);
  expect(await stack.db.sql`select kind from slack_outbox`).toEqual([]);
}

describe('a confirmed Cancel, mangled in transport, against the running app', () => {
  it('S1: without its signature or its timestamp: 401, nothing changes', async () => {
    const { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp } = signedHeaders(confirm);
    expect((await post(confirm, { 'content-type': FORM, 'x-slack-request-timestamp': timestamp })).status).toBe(401);
    expect((await post(confirm, { 'content-type': FORM, 'x-slack-signature': signature })).status).toBe(401);
    await expectNothingChanged();
  });

  it('S2: with its signature header sent twice: 401, nothing changes', async () => {
    const h = signedHeaders(confirm);
    const lines = [`Content-Type: ${FORM}`, `X-Slack-Request-Timestamp: ${h['x-slack-request-timestamp']}`, `X-Slack-Signature: ${h['x-slack-signature']}`];
    expect(await rawPost(stack.base, [...lines, lines[2]!], confirm)).toBe(401);
    expect(await rawPost(stack.base, [...lines, lines[1]!], confirm)).toBe(401);
    await expectNothingChanged();
  });

  it('S3: signed over a timestamp that is not whole seconds (abc, 1.5e9, -1, 0): 401, nothing changes', async () => {
    for (const timestamp of ['abc', '1.5e9', '-1', '0']) {
      const res = await post(confirm, { 'content-type': FORM, 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(SECRET, timestamp, confirm) });
      expect(res.status, timestamp).toBe(401);
    }
    await expectNothingChanged();
  });

  it('S4: signed 301 s ago or more than 300 s ahead: 401, nothing changes', async () => {
    expect((await post(confirm, signedHeaders(confirm, FORM, { now: (now() - 301) * 1000 }))).status).toBe(401);
    // +302: a second may tick between signing and checking (301 exactly is in front-door-catalogue.test.ts, on a fixed clock).
    expect((await post(confirm, signedHeaders(confirm, FORM, { now: (now() + 302) * 1000 }))).status).toBe(401);
    await expectNothingChanged();
  });

  it('S5: with v1=, an empty v0=, upper-case hex or another secret: 401, nothing changes', async () => {
    const right = signedHeaders(confirm);
    const digest = right['x-slack-signature'].slice(3);
    for (const signature of [`v1=${digest}`, 'v0=', `v0=${digest.toUpperCase()}`, signedHeaders(confirm, FORM, { secret: 'another-secret-0123456789abcdef' })['x-slack-signature']]) {
      expect((await post(confirm, { ...right, 'x-slack-signature': signature })).status, signature).toBe(401);
    }
    await expectNothingChanged();
  });

  it('S6: one byte changed, a trailing newline, or re-encoded after signing: 401, nothing changes', async () => {
    const headers = signedHeaders(confirm);
    expect((await post(confirm.replace('transport', 'transpors'), headers)).status).toBe(401);
    expect((await post(`${confirm}\n`, headers)).status).toBe(401);
    // The same form, re-encoded by a proxy (decoded, then encoded its own way).
    const reencoded = `payload=${encodeURIComponent(new URLSearchParams(confirm).get('payload')!).replace(/%3A/g, ':')}`;
    expect(reencoded).not.toBe(confirm);
    expect((await post(reencoded, headers)).status).toBe(401);
    await expectNothingChanged();
  });

  it('S7: behind ssl_check=1, =true or =0, signed or not: answered 200 and never dispatched', async () => {
    for (const flag of ['1', 'true', '0']) {
      const smuggled = `ssl_check=${flag}&${confirm}`;
      expect((await post(smuggled, { 'content-type': FORM })).status).toBe(200);
      expect((await sendSigned(stack.base, smuggled)).status).toBe(200);
    }
    await expectNothingChanged();
  });

  it('S8: declared as JSON, as multipart, or with no content type: refused, nothing changes', async () => {
    expect((await sendSigned(stack.base, confirm, 'application/json')).status).toBe(400);
    expect((await sendSigned(stack.base, confirm, 'multipart/form-data; boundary=x')).status).toBe(400);
    const h = signedHeaders(confirm);
    expect(await rawPost(stack.base, [`X-Slack-Request-Timestamp: ${h['x-slack-request-timestamp']}`, `X-Slack-Signature: ${h['x-slack-signature']}`], confirm)).toBe(400);
    await expectNothingChanged();
  });

  it('S9: its payload as invalid JSON, null or an array, or padded to 10 MB: 400/413, nothing changes, the app keeps answering', async () => {
    const payload = new URLSearchParams(confirm).get('payload')!;
    for (const bad of [payload.slice(0, -1), 'null', `[${payload}]`]) {
      const body = `payload=${encodeURIComponent(bad)}`;
      expect((await sendSigned(stack.base, body)).status).toBe(400);
    }
    const padded = `payload=${encodeURIComponent(JSON.stringify({ ...JSON.parse(payload), padding: 'x'.repeat(10 * 1024 * 1024) }))}`;
    expect((await postChunked(stack.base, 10 * 1024 * 1024, signedHeaders(padded))).status).toBe(413);
    expect((await fetch(`${stack.base}/healthz`)).status).toBe(200);
    await expectNothingChanged();
  });

  it('S10: a 5 MB and a 50 MB unauthenticated body: 413, and the app keeps answering', async () => {
    for (const size of [5, 50]) expect((await postChunked(stack.base, size * 1024 * 1024)).status).toBe(413);
    expect((await fetch(`${stack.base}/healthz`)).status).toBe(200);
    await expectNothingChanged();
  });

  it('intact, the same request cancels (the control for the refusals above)', async () => {
    const res = await sendSigned(stack.base, confirm);
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(await stack.db.sql`select status, cancelled_by from deployments where id = ${dep}`).toEqual([{ status: 'cancelled', cancelled_by: ALICE }]);
  });

  it('S11: a Cancel click replayed a second later opens no second modal', async () => {
    const other = (await createCampaignOrThrow(stack.db, { name: 'Replayed', csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) })).deploymentIds[0]!;
    const click = buttonClick({ actionId: 'cancel_deployment', value: `v1:${other}` }, ALICE);
    const headers = signedHeaders(click);
    const modals = () => stack.slack.ok('views.open').filter((c) => JSON.stringify(c.args.view).includes(other));
    expect((await post(click, headers)).status).toBe(200);
    await stack.slack.waitFor(() => modals().length === 1, 5000, 'the modal');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await post(click, headers)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(modals()).toHaveLength(1);
    expect(stack.slack.ok('chat.postEphemeral')).toHaveLength(0);
  });
});
