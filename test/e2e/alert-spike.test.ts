import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignOrThrow, csv } from '../support/builders.js';
import { waitFor } from '../support/sending.js';
import { CHANNEL } from '../support/slack.js';
import { startSlackStack, type SlackStack } from './harness.js';

/**
 * The real chain, end to end: a send whose recipients' server rejects 10% with 550 (the capture
 * sink's `.invalid` rule), the monitor in the running app, the outbox, the notifier, the fake
 * Slack. One alert message is posted; as the rate climbs it is edited in place to critical; no
 * second message for the same spike.
 */
let stack: SlackStack;
beforeAll(async () => {
  stack = await startSlackStack({
    ALERT_SUSTAIN_SECONDS: '0',
    ALERT_MIN_SAMPLE: '100',
    BOUNCE_RATE_WARN: '5%',
    BOUNCE_RATE_CRITICAL: '8%',
    SEND_RATE_PER_SECOND: '400',
  });
});
afterAll(async () => {
  await stack?.stop();
});

function audience(): string {
  const lines = ['email,first_name'];
  for (let i = 1; i <= 1600; i++) {
    const bounce = i <= 800 ? i % 17 === 0 : i % 7 === 0;
    lines.push(bounce ? `gone${i}@mailbox.invalid,B${i}` : `reader${i}@example.com,R${i}`);
  }
  return csv(lines);
}

describe('a bounce spike in the running app', () => {
  it('posts one alert to the alert channel and edits that same message as it escalates', async () => {
    const { deploymentIds } = await createCampaignOrThrow(stack.db, { name: 'Winter <!channel> promo', csv: audience() });
    const dep = deploymentIds[0]!;
    await waitFor(async () => (await stack.db.sql`select status from deployments where id = ${dep}`)[0]!.status === 'completed', { what: 'the send', timeoutMs: 30_000 });

    const alert = await waitFor(async () => {
      const [row] = await stack.db.sql`select id, severity, slack_ts, slack_channel from alerts where deployment_id = ${dep}`;
      return row?.severity === 'critical' && row.slack_ts && row;
    }, { what: 'the critical alert, posted', timeoutMs: 20_000 });
    expect((await stack.db.sql`select count(*)::int as n from alerts where deployment_id = ${dep}`)[0]!.n).toBe(1);

    const posts = stack.slack.ok('chat.postMessage').filter((c) => JSON.stringify(c.args).includes(dep));
    expect(posts).toHaveLength(1);
    expect(posts[0]!.args.channel).toBe(CHANNEL);
    expect(JSON.stringify(posts[0]!.args)).not.toContain('<!channel>');

    // The escalation (and the completion) edit the message that was posted, never a new one.
    const edits = await stack.slack.waitFor(() => {
      const found = stack.slack.ok('chat.update').filter((c) => c.args.ts === alert.slack_ts);
      return found.length > 0 && found;
    }, 15_000, 'the escalation edit');
    expect(edits.every((c) => c.args.channel === alert.slack_channel)).toBe(true);
    const last = JSON.stringify(stack.slack.ok('chat.update').filter((c) => c.args.ts === alert.slack_ts).at(-1)!.args);
    expect(last).toMatch(/critical/i);
    expect(last).toContain('mailbox.invalid');
  }, 90_000);
});
