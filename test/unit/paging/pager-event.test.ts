import { describe, expect, it } from 'vitest';
import type { PagerOutboxRow } from '../../../src/db/queries/pager-outbox.js';
import type { AlertView } from '../../../src/db/queries/slack-outbox.js';
import { describePagerEvent, SUMMARY_MAX } from '../../../src/paging/event.js';
import { retryAfter } from '../../../src/paging/http.js';
import { pagerDutyBody } from '../../../src/paging/pagerduty.js';
import { pagerDutyErrors, ROUTING_KEY } from '../../support/fake-pagerduty.js';

/** The pager event as PagerDuty would judge it, the summary's limit, and Retry-After's two forms. */
const opened = new Date('2026-12-06T03:00:00Z');
const view = (overrides: Partial<AlertView> = {}): AlertView =>
  ({
    id: 'alr_7k2m9q4x1c', deployment_id: 'dep_3f8h2k9m4p', metric: 'complaint', severity: 'critical', state: 'open', rate: 0.0021, sample: 4000, threshold: 0.001,
    opened_at: opened, slack_channel: null, slack_ts: null, deployment_name: 'EU', deployment_status: 'sending', campaign_id: 'cmp_9x2c4v6b8n', campaign_name: 'Spring sale',
    ...overrides,
  }) as AlertView;
const row = (action: PagerOutboxRow['action'], createdAt = new Date(opened.getTime() + 15 * 60_000 + 20_000)): PagerOutboxRow => ({
  id: 7, alert_id: 'alr_7k2m9q4x1c', destination: 'pagerduty', action, dedupe_key: `pager:alr_7k2m9q4x1c:pagerduty:${action}`,
  payload: { severity: 'critical', rate: 0.0021, threshold: 0.001 }, attempts: 1, created_at: createdAt,
});
const links = { runbook: undefined, dashboard: undefined, slackWorkspaceUrl: 'https://acme.slack.com/' };

describe('pager events', () => {
  it('a trigger is an event PagerDuty accepts, with the summary a responder reads first', () => {
    const event = describePagerEvent(row('trigger'), view({ slack_channel: 'C0ALERTS01', slack_ts: '1733454421.123456' }), links);
    expect(event.summary).toBe('Complaint rate 0.21% (critical, threshold 0.1%) on Spring sale / EU (dep_3f8h2k9m4p) — open 15 min, nobody acknowledged');
    expect(event.links).toEqual([{ href: 'https://acme.slack.com/archives/C0ALERTS01/p1733454421123456', text: 'Alert in Slack' }]);
    expect(pagerDutyErrors(pagerDutyBody(event, ROUTING_KEY))).toEqual([]);
  });

  it('a summary over PagerDuty\'s 1024 characters is cut, never refused', () => {
    const event = describePagerEvent(row('trigger'), view({ campaign_name: '🚀'.repeat(1500) }), links);
    expect(event.summary.length).toBeLessThanOrEqual(SUMMARY_MAX);
    expect(event.summary.length).toBeGreaterThan(SUMMARY_MAX - 2);
    expect(event.summary).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(event.summary.endsWith('…')).toBe(true);
    expect(pagerDutyErrors(pagerDutyBody(event, ROUTING_KEY))).toEqual([]);
  });

  it('acknowledge and resolve carry only the key, the action and the alert; a resolve says why', () => {
    expect(pagerDutyBody(describePagerEvent(row('acknowledge'), view(), links), ROUTING_KEY)).toEqual({ routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: 'alr_7k2m9q4x1c' });
    expect(describePagerEvent(row('resolve'), view({ state: 'resolved' }), links).summary).toMatch(/ — back to normal$/);
    expect(describePagerEvent(row('resolve'), view({ deployment_status: 'cancelled' }), links).summary).toMatch(/ — deployment cancelled$/);
  });

  it('Retry-After in seconds or as an HTTP date, capped at an hour; nonsense is ignored', () => {
    expect(retryAfter('7')).toBe(7);
    expect(retryAfter(null)).toBeUndefined();
    expect(retryAfter('soon')).toBeUndefined();
    expect(retryAfter('86400')).toBe(3600);
    const inTwenty = new Date(Date.now() + 20_000).toUTCString();
    expect(retryAfter(inTwenty)).toBeGreaterThan(18);
    expect(retryAfter(inTwenty)).toBeLessThanOrEqual(20);
  });
});
