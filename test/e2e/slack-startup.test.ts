import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app/serve.js';
import { ConfigError } from '../../src/lib/config-error.js';
import { openAlertForTest } from '../support/alerts.js';
import { audienceCsv, createCampaignOrThrow } from '../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { testConfig, testLogger, waitFor } from '../support/sending.js';
import { CHANNEL, SECRET, startFakeSlack, type FakeSlack } from '../support/slack.js';

/** Starting with Slack: a refused token stops with one line; Socket Mode goes through SLACK_API_URL; Slack off logs. */
let db: TestDatabase;
let slack: FakeSlack;

beforeAll(async () => {
  db = await createTestDatabase();
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack.close();
  await db.drop();
});

const env = (extra: Record<string, string>) => testConfig(db, { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_API_URL: slack.url, SLACK_ALERT_CHANNEL: CHANNEL, PORT: '0', HOST: '127.0.0.1', ...extra });

describe('starting with Slack', () => {
  it('a bot token Slack refuses stops the start with one clear line', async () => {
    slack.fail('auth.test', { error: 'invalid_auth' });
    const error = await startApp(env({ SLACK_SIGNING_SECRET: SECRET }), testLogger, { role: 'web' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('SLACK_BOT_TOKEN was refused by Slack (invalid_auth)');
    expect(slack.calls.at(-1)).toMatchObject({ method: 'auth.test' });
  });

  it('Socket Mode opens its connection through SLACK_API_URL, and a refused app token is one line too', async () => {
    slack.fail('apps.connections.open', { error: 'invalid_auth' });
    const error = await startApp(env({ SLACK_APP_TOKEN: 'xapp-1-test' }), testLogger, { role: 'web', slack: { retries: 0 } }).catch((e: unknown) => e);
    expect(slack.calls.some((c) => c.method === 'apps.connections.open')).toBe(true);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^SLACK_APP_TOKEN could not open a Socket Mode connection/);
  });

  it('with no Slack credentials, Slack is off: no route, and alerts are written to the log and marked delivered', async () => {
    const before = slack.calls.length;
    const app = await startApp(testConfig(db, { PORT: '0', HOST: '127.0.0.1' }), testLogger, { role: 'all' });
    try {
      expect(app.slack).toBeUndefined();
      expect((await fetch(`${app.url!.replace('0.0.0.0', '127.0.0.1')}/slack/events`, { method: 'POST', body: 'x' })).status).toBe(404);
      const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(3), sendAt: new Date(Date.now() + 3_600_000) });
      const alertId = await openAlertForTest(db, deploymentIds[0]!);
      app.notifier!.kick();
      await waitFor(async () => (await db.sql`select status from slack_outbox where alert_id = ${alertId}`)[0]!.status === 'delivered', { what: 'the logged alert' });
      expect(slack.calls.length).toBe(before);
    } finally {
      await app.stop();
    }
  });
});
