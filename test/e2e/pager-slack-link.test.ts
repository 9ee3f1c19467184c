import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueuePagerTrigger } from '../../src/db/queries/pager-outbox.js';
import { openAlertForTest } from '../support/alerts.js';
import { createCampaignOrThrow } from '../support/builders.js';
import { ROUTING_KEY, startFakePagerDuty, type FakePagerDuty } from '../support/fake-pagerduty.js';
import { waitFor } from '../support/sending.js';
import { CHANNEL } from '../support/slack.js';
import { startSlackStack, type SlackStack } from './harness.js';

/**
 * `serve` with Slack on and PagerDuty configured: the page links back to the alert's Slack
 * message, built from the workspace URL Slack's auth.test gave at start.
 */
let stack: SlackStack;
let pagerDuty: FakePagerDuty;
beforeAll(async () => {
  pagerDuty = await startFakePagerDuty();
  stack = await startSlackStack({ PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pagerDuty.url, ALERT_RUNBOOK_URL: 'https://wiki.example.com/runbooks/{metric}' });
});
afterAll(async () => {
  await stack.stop();
  await pagerDuty.close();
});

describe('a page with Slack on', () => {
  it('links to the alert message in Slack, and to the runbook', async () => {
    const { deploymentIds } = await createCampaignOrThrow(stack.db, { sendAt: new Date(Date.now() + 3_600_000) });
    const alertId = await openAlertForTest(stack.db, deploymentIds[0]!, { severity: 'critical', rate: 0.12, threshold: 0.1 });
    const [posted] = await waitFor(
      async () => {
        const rows = await stack.db.sql<{ slack_ts: string | null }[]>`select slack_ts from alerts where id = ${alertId}`;
        return rows[0]?.slack_ts ? rows : undefined;
      },
      { what: 'the alert message posted' },
    );
    await stack.db.sql.begin((tx) => enqueuePagerTrigger(tx, ['pagerduty'], [alertId]));
    await waitFor(async () => pagerDuty.actionsFor(alertId).length === 1, { what: 'the trigger' });
    const permalink = `https://acme.slack.com/archives/${CHANNEL}/p${posted!.slack_ts!.replace('.', '')}`;
    expect(pagerDuty.accepted.find((e) => e.dedup_key === alertId)!.body).toMatchObject({
      client_url: permalink,
      links: [
        { href: permalink, text: 'Alert in Slack' },
        { href: 'https://wiki.example.com/runbooks/bounce', text: 'Runbook' },
      ],
      payload: { severity: 'critical' },
    });
    expect(stack.app.pager).toBeDefined();
  }, 30_000);
});
