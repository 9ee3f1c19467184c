import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAlertForTest } from '../support/alerts.js';
import { audienceCsv, createCampaignOrThrow } from '../support/builders.js';
import { waitFor } from '../support/sending.js';
import { startSlackStack, type SlackStack } from './harness.js';

/**
 * A storm of Slack failures (500s, then 429s with Retry-After) while alerts open and a responder
 * cancels: every alert post, edit and thread reply arrives, each exactly once, none lost.
 */
let stack: SlackStack;
beforeAll(async () => {
  stack = await startSlackStack({}, { pacingMs: 50 });
  await stack.app.services.access.grant('U0ALICE001', 'responder', 'test');
});
afterAll(async () => {
  await stack?.stop();
});

describe('Slack 429 and 500 storms', () => {
  it('deliver every alert, edit and thread reply exactly once', async () => {
    stack.slack.fail('chat.postMessage', ...Array.from({ length: 6 }, () => ({ status: 500 as const })), { status: 429, retryAfter: 1 }, { status: 500 });
    stack.slack.fail('chat.update', { status: 429, retryAfter: 1 }, { status: 500 }, { status: 500 }, { status: 429, retryAfter: 1 });

    const deps: string[] = [];
    for (let i = 0; i < 3; i++) {
      deps.push((await createCampaignOrThrow(stack.db, { name: `Storm ${i}`, csv: audienceCsv(10), sendAt: new Date(Date.now() + 3_600_000) })).deploymentIds[0]!);
    }
    const alerts: string[] = [];
    for (const dep of deps) alerts.push(await openAlertForTest(stack.db, dep));
    stack.app.notifier!.kick();
    await waitFor(async () => (await stack.db.sql`select count(*)::int as n from alerts where slack_ts is not null and id = any(${alerts}::text[])`)[0]!.n === 3, { what: 'three alert posts through the storm', timeoutMs: 60_000 });
    expect((await stack.app.services.control.cancel({ target: deps[0]!, actor: 'U0ALICE001', reason: 'storm' })).outcome).toBe('cancelled');
    stack.app.notifier!.kick();

    await waitFor(async () => (await stack.db.sql`select count(*)::int as n from slack_outbox where status not in ('delivered', 'superseded')`)[0]!.n === 0, { what: 'the outbox to drain', timeoutMs: 60_000 });
    const [{ failed }] = (await stack.db.sql`select count(*)::int as failed from slack_outbox where status = 'failed'`) as unknown as [{ failed: number }];
    expect(failed).toBe(0);

    // Each alert posted once; the cancelled one edited once and answered twice in its thread.
    const posts = stack.slack.ok('chat.postMessage');
    for (const dep of deps) expect(posts.filter((c) => !c.args.thread_ts && JSON.stringify(c.args).includes(dep))).toHaveLength(1);
    const [{ slack_ts: ts }] = (await stack.db.sql`select slack_ts from alerts where id = ${alerts[0]!}`) as unknown as [{ slack_ts: string }];
    const replies = posts.filter((c) => c.args.thread_ts === ts);
    expect(replies.map((c) => (String(c.args.text).includes('Final counts') ? 'settled' : 'confirmation'))).toEqual(['confirmation', 'settled']);
    expect(stack.slack.ok('chat.update').filter((c) => c.args.ts === ts)).toHaveLength(1);
    // The storm really happened.
    expect(stack.slack.calls.filter((c) => c.status !== 200).length).toBeGreaterThanOrEqual(10);
  }, 120_000);
});
