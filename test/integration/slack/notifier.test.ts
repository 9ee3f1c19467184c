import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enqueueAlertRefresh } from '../../../src/db/queries/slack-outbox.js';
import { createNotifier } from '../../../src/slack/notifier.js';
import { createLogWriter, createWebWriter, webApiOptions } from '../../../src/slack/writer.js';
import { changeAlertForTest, openAlertForTest } from '../../support/alerts.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { connectDatabase } from '../../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { startFaultProxy } from '../../support/fault-proxy.js';
import { testLogger, waitFor } from '../../support/sending.js';
import { CHANNEL, startFakeSlack, type FakeSlack } from '../../support/slack.js';

/** Done-when 5: the outbox reaches Slack once each, in order, through 429s and 500s. */
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
beforeEach(async () => {
  slack.calls.length = 0;
  await db.sql`update slack_outbox set status = 'delivered' where status = 'pending'`;
});

const writer = () => createWebWriter(new webApi.WebClient('xoxb-test', { ...webApiOptions(slack.url, 0), logLevel: webApi.LogLevel.ERROR }));
const notifier = (pacingMs = 50) => createNotifier({ sql: db.sql, writer: writer(), alertChannel: CHANNEL, logger: testLogger, pacingMs, pollMs: 50 });
const scheduled = async (name = 'Spring Sale') => (await createCampaignOrThrow(db, { name, csv: audienceCsv(10), sendAt: new Date(Date.now() + 3_600_000) })).deploymentIds[0]!;
const pending = async () => (await db.sql<{ n: number }[]>`select count(*)::int as n from slack_outbox where status = 'pending'`)[0]!.n;

async function drain(n: ReturnType<typeof notifier>) {
  n.start();
  await waitFor(async () => (await pending()) === 0, { what: 'the outbox to drain', timeoutMs: 20_000 });
  await n.stop();
}

describe('notifier', () => {
  it('posts an alert once, stores its ts, and edits that same message; of two edits waiting, only the newer is sent', async () => {
    const dep = await scheduled('Spring <!channel> & <b>');
    const alertId = await openAlertForTest(db, dep);
    // Queued before the post is delivered: they wait for the post; the resolve's edit shows all
    // the escalation's would, so the escalation's is superseded rather than sent as well.
    await changeAlertForTest(db, alertId, 'escalated');
    await changeAlertForTest(db, alertId, 'resolved', 0.01);
    await drain(notifier());
    const posts = slack.ok('chat.postMessage');
    expect(posts).toHaveLength(1);
    const [alert] = await db.sql`select slack_channel, slack_ts from alerts where id = ${alertId}`;
    expect(alert!.slack_channel).toBe(CHANNEL);
    const updates = slack.ok('chat.update');
    expect(updates).toHaveLength(1);
    for (const u of updates) expect(u.args).toMatchObject({ channel: CHANNEL, ts: alert!.slack_ts });
    expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update']);
    const posted = JSON.stringify(posts[0]!.args);
    expect(posted).toContain('Spring &lt;!channel&gt; &amp; &lt;b&gt;');
    expect(posted).not.toContain('<!channel>');
    expect(posted).toContain('mailinator.com');
    expect(JSON.stringify(updates[0]!.args)).toContain('back to normal');
    const rows = await db.sql`select status, delivered_ts from slack_outbox where alert_id = ${alertId} order by id`;
    expect(rows.map((r) => r.status)).toEqual(['delivered', 'superseded', 'delivered']);

    // An edit queued after the last one went is sent.
    await enqueueAlertRefresh(db.sql, alertId);
    await drain(notifier());
    expect(slack.ok('chat.update')).toHaveLength(2);
    expect(rows[0]!.delivered_ts).toBe(alert!.slack_ts);
  });

  it('waits out a 429 (Retry-After) on chat.update and retries a 500 on chat.postMessage: each delivered exactly once', async () => {
    const dep = await scheduled();
    const alertId = await openAlertForTest(db, dep);
    await changeAlertForTest(db, alertId, 'escalated');
    slack.fail('chat.postMessage', { status: 500 });
    slack.fail('chat.update', { status: 429, retryAfter: 1 });
    const started = Date.now();
    await drain(notifier());
    expect(slack.calls.filter((c) => c.method === 'chat.postMessage').map((c) => c.status)).toEqual([500, 200]);
    const updates = slack.calls.filter((c) => c.method === 'chat.update');
    expect(updates.map((c) => c.status)).toEqual([429, 200]);
    // Retry-After: 1 was honoured.
    expect(updates[1]!.at - updates[0]!.at).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const [row] = await db.sql`select status, attempts, last_error from slack_outbox where dedupe_key = ${`alert:${alertId}:opened`}`;
    expect(row).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('gives up on a permanent error (channel_not_found) without retrying forever', async () => {
    const dep = await scheduled();
    const alertId = await openAlertForTest(db, dep);
    slack.fail('chat.postMessage', { error: 'channel_not_found' });
    const n = notifier();
    n.start();
    await waitFor(async () => (await db.sql`select status from slack_outbox where alert_id = ${alertId}`)[0]!.status === 'failed', { what: 'the row to fail' });
    await n.stop();
    expect(slack.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
  });

  it('two notifiers never send the same row', async () => {
    for (let d = 0; d < 4; d++) {
      const dep = await scheduled();
      for (const metric of ['bounce', 'error', 'complaint'] as const) await openAlertForTest(db, dep, { metric });
    }
    const a = notifier(10);
    const b = notifier(10);
    a.start();
    await drain(b);
    await a.stop();
    const posts = slack.ok('chat.postMessage');
    expect(posts).toHaveLength(12);
    const alertIds = posts.map((p) => /alr_[0-9a-z]{10}/.exec(JSON.stringify(p.args))![0]);
    expect(new Set(alertIds).size).toBe(12);
  });

  it('paces one channel at about one message per second', async () => {
    const dep = await scheduled();
    for (let i = 0; i < 3; i++) await openAlertForTest(db, dep, { metric: (['bounce', 'error', 'complaint'] as const)[i] });
    await drain(notifier(1000));
    const at = slack.ok('chat.postMessage').map((c) => c.at);
    expect(at).toHaveLength(3);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(950);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(950);
  });

  it('with Slack off writes each message to the log and marks it delivered', async () => {
    const dep = await scheduled();
    const alertId = await openAlertForTest(db, dep);
    await changeAlertForTest(db, alertId, 'escalated');
    const lines: { slack?: string; text?: string }[] = [];
    const logger = testLogger.child({});
    const capture = { ...logger, child: () => ({ info: (o: { slack?: string; text?: string }) => lines.push(o) }) } as unknown as typeof testLogger;
    const n = createNotifier({ sql: db.sql, writer: createLogWriter(capture), alertChannel: 'log', logger: testLogger, pollMs: 50, pacingMs: 10 });
    await drain(n);
    expect(lines.map((l) => l.slack)).toEqual(['post', 'update']);
    expect(lines[0]!.text).toMatch(/Bounce rate/);
    expect(slack.calls).toHaveLength(0);
  });

  it('Postgres goes away right after Slack accepted a post: the post is recorded once Postgres is back, never sent again, and the edit after it goes to that message', { timeout: 30_000 }, async () => {
    const dep = await scheduled();
    const alertId = await openAlertForTest(db, dep);
    await changeAlertForTest(db, alertId, 'escalated');
    const target = new URL(db.url);
    const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
    const proxied = connectDatabase(Object.assign(new URL(db.url), { port: String(proxy.port) }).toString(), { max: 2 });
    const inner = writer();
    let tripped = false;
    let postedTs: string | undefined;
    const outageWriter = {
      ...inner,
      async post(m: Parameters<typeof inner.post>[0]) {
        const posted = await inner.post(m);
        postedTs ??= posted.ts;
        if (!tripped) {
          // Slack has the message; Postgres goes away before the notifier can record it, for
          // longer than the row's lease and than the notifier's quick retries.
          tripped = true;
          proxy.set('reset');
          proxy.set('refuse');
          setTimeout(() => proxy.set('pass'), 4_000);
        }
        return posted;
      },
    };
    const n = createNotifier({ sql: proxied.sql, writer: outageWriter, alertChannel: CHANNEL, logger: testLogger, pacingMs: 10, pollMs: 50, leaseSeconds: 1 });
    try {
      await drain(n);
    } finally {
      await proxied.close();
      await proxy.close();
    }
    expect(tripped).toBe(true);
    expect(slack.ok('chat.postMessage')).toHaveLength(1);
    const [alert] = await db.sql`select slack_ts from alerts where id = ${alertId}`;
    expect(alert!.slack_ts).toBe(postedTs);
    expect(slack.ok('chat.update').map((c) => c.args.ts)).toEqual([alert!.slack_ts]);
    expect(n.unrecordedCount()).toBe(0);
  });
});
