import { startApp, type RunningApp } from '../../src/app/serve.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { testConfig, testLogger } from '../support/sending.js';
import { CHANNEL, SECRET, startFakeSlack, type FakeSlack } from '../support/slack.js';

/** The running app (HTTP mode) with a fake Slack Web API on localhost and a database of its own. */
export interface SlackStack {
  app: RunningApp;
  base: string;
  slack: FakeSlack;
  db: TestDatabase;
  stop(): Promise<void>;
}

/** `tuning.databaseUrl`: the address the app uses for its database (e.g. through a fault proxy). */
export async function startSlackStack(env: Record<string, string> = {}, tuning: { pacingMs?: number; databaseUrl?: (url: string) => string } = {}): Promise<SlackStack> {
  const slack = await startFakeSlack();
  const db = await createTestDatabase();
  const config = testConfig(db, {
    ...(tuning.databaseUrl ? { DATABASE_URL: tuning.databaseUrl(db.url) } : {}),
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    SLACK_ALERT_CHANNEL: CHANNEL,
    PORT: '0',
    HOST: '127.0.0.1',
    ...env,
  });
  const app = await startApp(config, testLogger, { role: 'all', slack: { retries: 0, pacingMs: tuning.pacingMs ?? 150, homeThrottleMs: 200 } });
  return {
    app,
    base: app.url!.replace('0.0.0.0', '127.0.0.1'),
    slack,
    db,
    async stop() {
      await app.stop();
      await slack.close();
      await db.drop();
    },
  };
}
