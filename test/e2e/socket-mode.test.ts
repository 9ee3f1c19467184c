import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../src/app/serve.js';
import { audienceCsv, createCampaignOrThrow } from '../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { testConfig, testLogger } from '../support/sending.js';
import { buttonClick, CHANNEL, commandBody, startFakeSlack, viewSubmission, type FakeSlack } from '../support/slack.js';
import { startFakeSocketMode, type FakeSocketMode } from '../support/socket-mode.js';

/**
 * Socket Mode end to end: the app asks the fake Slack Web API for a connection (apps.connections.open),
 * which names a local WebSocket server; that server greets it and delivers envelopes. Slack
 * redelivers an envelope it does not know was acknowledged, for instance after a reconnect: the
 * app must acknowledge each copy and act on one.
 */
let db: TestDatabase;
let slack: FakeSlack;
let socket: FakeSocketMode;
let app: RunningApp;
const ALICE = 'U0ALICE001';

beforeAll(async () => {
  db = await createTestDatabase();
  socket = await startFakeSocketMode();
  slack = await startFakeSlack({ socketModeUrl: socket.url });
  const config = testConfig(db, { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_APP_TOKEN: 'xapp-1-test', SLACK_API_URL: slack.url, SLACK_ALERT_CHANNEL: CHANNEL, PORT: '0', HOST: '127.0.0.1' });
  app = await startApp(config, testLogger, { role: 'web', slack: { retries: 0 } });
  await app.services.access.grant(ALICE, 'responder', 'test');
}, 60_000);
afterAll(async () => {
  await app?.stop();
  await socket?.close();
  await slack?.close();
  await db?.drop();
});

/** The interactive payload of a form body made by the HTTP helpers: Socket Mode carries it as JSON. */
const payloadOf = (form: string) => JSON.parse(new URLSearchParams(form).get('payload')!) as Record<string, unknown>;
const acksOf = (envelopeId: string) => socket.acks.filter((a) => a.envelope_id === envelopeId);

describe('Socket Mode', () => {
  it('S13: the same Cancel click envelope delivered again after a reconnect is acknowledged twice and opens one modal', async () => {
    const { deploymentIds } = await createCampaignOrThrow(db, { name: 'Socket sale', csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) });
    const dep = deploymentIds[0]!;
    expect(socket.connectionCount()).toBe(1);
    const click = { envelope_id: 'env-click-0001', type: 'interactive', payload: payloadOf(buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, ALICE)) };

    socket.deliver(click);
    await slack.waitFor(() => acksOf(click.envelope_id).length === 1, 5000, 'the first acknowledgement');
    const modal = await slack.waitFor(() => slack.ok('views.open').find((c) => JSON.stringify(c.args.view).includes(dep)), 5000, 'the cancel modal');

    // Slack recycles the connection; the client reconnects (apps.connections.open again) and the
    // envelope comes again on the new connection.
    socket.refresh();
    await slack.waitFor(() => socket.connectionCount() === 2 && slack.ok('apps.connections.open').length === 2, 20_000, 'the reconnect');
    await new Promise((r) => setTimeout(r, 100));
    socket.deliver(click);
    await slack.waitFor(() => acksOf(click.envelope_id).length === 2, 5000, 'the second acknowledgement');
    expect(acksOf(click.envelope_id).map((a) => a.connection)).toEqual([0, 1]);

    // Acted on once: one modal, no second answer of any kind.
    await new Promise((r) => setTimeout(r, 300));
    expect(slack.ok('views.open').filter((c) => JSON.stringify(c.args.view).includes(dep))).toEqual([modal]);
    expect(slack.ok('chat.postEphemeral')).toHaveLength(0);

    // A new envelope for the same click is a new request (the dedupe is by envelope, not by content).
    socket.deliver({ ...click, envelope_id: 'env-click-0002' });
    await slack.waitFor(() => slack.ok('views.open').filter((c) => JSON.stringify(c.args.view).includes(dep)).length === 2, 5000, 'the second modal');
  }, 40_000);

  it('S13: a modal submit envelope delivered twice cancels once; both are acknowledged, the first closing the modal', async () => {
    const { deploymentIds } = await createCampaignOrThrow(db, { name: 'Socket submit', csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) });
    const dep = deploymentIds[0]!;
    socket.deliver({ envelope_id: 'env-click-0100', type: 'interactive', payload: payloadOf(buttonClick({ actionId: 'cancel_deployment', value: `v1:${dep}` }, ALICE)) });
    const open = await slack.waitFor(() => slack.ok('views.open').find((c) => JSON.stringify(c.args.view).includes(dep)), 5000, 'the cancel modal');
    const metadata = (open.args.view as { private_metadata: string }).private_metadata;

    const submit = { envelope_id: 'env-submit-0100', type: 'interactive', accepts_response_payload: true, payload: payloadOf(viewSubmission({ id: 'V0SOCKET01', privateMetadata: metadata, reason: 'socket' }, ALICE)) };
    socket.deliver(submit);
    socket.deliver(submit);
    await slack.waitFor(() => acksOf(submit.envelope_id).length === 2, 5000, 'both acknowledgements');
    expect(acksOf(submit.envelope_id).map((a) => a.payload ?? {})).toEqual([{}, {}]);
    expect((await db.sql`select status, cancelled_by from deployments where id = ${dep}`)[0]).toEqual({ status: 'cancelled', cancelled_by: ALICE });
    expect(await db.sql`select actor, outcome from audit_log where action = 'cancel' and target_id = ${dep}`).toEqual([{ actor: ALICE, outcome: 'ok' }]);
  });

  it('S13: a slash command envelope delivered twice is answered once', async () => {
    const command = Object.fromEntries(new URLSearchParams(commandBody('help', ALICE, { responseUrl: slack.responseUrl('socket-help') })));
    const envelope = { envelope_id: 'env-command-0200', type: 'slash_commands', accepts_response_payload: true, payload: command };
    socket.deliver(envelope);
    socket.deliver(envelope);
    await slack.waitFor(() => acksOf(envelope.envelope_id).length === 2, 5000, 'both acknowledgements');
    await new Promise((r) => setTimeout(r, 300));
    const answered = acksOf(envelope.envelope_id).filter((a) => a.payload && Object.keys(a.payload).length > 0).length + slack.responses.filter((r) => r.path.endsWith('/socket-help')).length;
    expect(answered).toBe(1);
  });
});
