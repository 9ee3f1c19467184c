import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../src/app/serve.js';
import type { Config } from '../../src/config.js';
import { audienceCsv, createCampaignOrThrow } from '../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { testConfig, testLogger } from '../support/sending.js';
import { buttonClick, CHANNEL, postSlack, SECRET, signedHeaders, startFakeSlack, type FakeSlack } from '../support/slack.js';

/**
 * O3 (issue 19, finding 8): the replay memory is shared by every web process (Redis, kept across
 * restarts), and pause/resume carry the request's key as cancel does. A signed Pause click replayed
 * to a second `serve --role web` process, or to a restarted one, is answered and not acted on again.
 */
let db: TestDatabase;
let slack: FakeSlack;
let config: Config;
const apps: RunningApp[] = [];

const startWeb = async () => {
  const app = await startApp(config, testLogger, { role: 'web', slack: { retries: 0 } });
  apps.push(app);
  return { app, base: app.url!.replace('0.0.0.0', '127.0.0.1') };
};

beforeAll(async () => {
  slack = await startFakeSlack();
  db = await createTestDatabase();
  config = testConfig(db, { SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.url, SLACK_ALERT_CHANNEL: CHANNEL, PORT: '0', HOST: '127.0.0.1' });
});
afterAll(async () => {
  for (const app of apps) await app.stop().catch(() => undefined);
  await slack?.close();
  await db?.drop();
});

describe('O3: a signed Slack request replayed to another web process or after a restart', () => {
  it('O3: a Pause click replayed to a second web process, and to a restarted one, is not acted on again', async () => {
    const first = await startWeb();
    const second = await startWeb();
    await first.app.services.access.grant('U0ALICE001', 'responder', 'test');
    const { deploymentIds } = await createCampaignOrThrow(db, { name: 'Replay target', csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) });
    const dep = deploymentIds[0]!;
    const statusOf = async () => (await db.sql<{ status: string }[]>`select status from deployments where id = ${dep}`)[0]!.status;
    const pauses = async () => (await db.sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'pause' and target_id = ${dep}`)[0]!.n;

    const body = buttonClick({ actionId: 'pause_deployment', value: `v1:${dep}` }, 'U0ALICE001');
    const headers = signedHeaders(body);
    expect((await postSlack(first.base, body, headers)).status).toBe(200);
    await expect.poll(statusOf).toBe('paused');
    await slack.waitFor(() => slack.ok('chat.postEphemeral').length === 1 || undefined, 5000, 'the answer to the click');
    // Someone resumes; the captured click is then replayed, within its signature's 5 minutes.
    expect(await first.app.services.control.resume({ target: dep, actor: 'U0ALICE001', requestKey: 'test:resume' })).toMatchObject({ outcome: 'resumed' });
    expect(await statusOf()).toBe('scheduled');

    expect((await postSlack(second.base, body, headers)).status).toBe(200);
    await second.app.stop();
    apps.splice(apps.indexOf(second.app), 1);
    await first.app.stop();
    apps.splice(apps.indexOf(first.app), 1);
    const restarted = await startWeb();
    expect((await postSlack(restarted.base, body, headers)).status).toBe(200);

    await new Promise((r) => setTimeout(r, 500));
    expect(await statusOf()).toBe('scheduled');
    expect(await pauses()).toBe(1);
    // Not dispatched at all: no second answer to the clicker.
    expect(slack.ok('chat.postEphemeral')).toHaveLength(1);
  });

  it('O3: pause and resume carry the request key as cancel does: the same request again returns the first outcome and changes nothing', async () => {
    const app = apps[0] ?? (await startWeb()).app;
    await app.services.access.grant('U0ALICE001', 'responder', 'test');
    const { deploymentIds } = await createCampaignOrThrow(db, { name: 'Keyed', csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) });
    const dep = deploymentIds[0]!;
    const statusOf = async () => (await db.sql<{ status: string }[]>`select status from deployments where id = ${dep}`)[0]!.status;
    const pause = { target: dep, actor: 'U0ALICE001', requestKey: 'slack:action:replayed-trigger' };
    expect(await app.services.control.pause(pause)).toMatchObject({ outcome: 'paused', deploymentIds: [dep] });
    expect(await app.services.control.resume({ target: dep, actor: 'U0ALICE001', requestKey: 'slack:action:resume-1' })).toMatchObject({ outcome: 'resumed' });
    // The pause request again (a replay past every memory but the database): its first outcome, nothing done.
    expect(await app.services.control.pause(pause)).toMatchObject({ outcome: 'paused', deploymentIds: [dep] });
    expect(await statusOf()).toBe('scheduled');
    const resume = { target: dep, actor: 'U0ALICE001', requestKey: 'slack:action:resume-1' };
    await app.services.control.pause({ target: dep, actor: 'U0ALICE001', requestKey: 'slack:action:pause-2' });
    expect(await app.services.control.resume(resume)).toMatchObject({ outcome: 'resumed' });
    expect(await statusOf()).toBe('paused');
    const audit = await db.sql<{ action: string; request_key: string }[]>`select action, request_key from audit_log where target_id = ${dep} order by id`;
    expect(audit).toEqual([
      { action: 'pause', request_key: 'slack:action:replayed-trigger' },
      { action: 'resume', request_key: 'slack:action:resume-1' },
      { action: 'pause', request_key: 'slack:action:pause-2' },
    ]);
  });
});
