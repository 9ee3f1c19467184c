import { describe, expect, it } from 'vitest';
import type { AlertView } from '../../../src/db/queries/slack-outbox.js';
import type { OpenAlertOnCall } from '../../../src/db/queries/on-call.js';
import { renderAlert, type AlertExtras } from '../../../src/slack/blocks/alert.js';
import { homeView, whoIsOn } from '../../../src/slack/blocks/home.js';
import { acknowledgeMrkdwn, onCallLine, parseSnoozeValue, renderOnCallReply, renderRateChart, snoozeValue } from '../../../src/slack/blocks/on-call.js';
import { parseCommandText } from '../../../src/slack/command-text.js';
import { SLACK_LIMITS } from '../../../src/slack/blocks/common.js';
import { slackLimitProblems } from '../../support/slack-limits.js';

const NOW = new Date('2026-01-01T01:00:00Z');
const base: AlertView = {
  id: 'alr_0000000001', deployment_id: 'dep_0000000001', metric: 'bounce', severity: 'warning', state: 'open', rate: 0.061, sample: 1200, threshold: 0.05,
  stats: { bounce: { rate: 0.061, sample: 1200, windowRate: 0.08, windowSample: 300 } },
  top_domains: [], auto_paused: null, slack_channel: null, slack_ts: null,
  opened_at: new Date('2026-01-01T00:00:00Z'), escalated_at: null, resolved_at: null,
  acknowledged_by: null, acknowledged_at: null, snoozed_until: null, snoozed_by: null, reannounced_at: null,
  deployment_name: 'Spring', deployment_status: 'sending', total_count: 1000, sent_count: 400, bounced_count: 30, failed_count: 0, unknown_count: 0,
  in_flight_count: 0, cancelled_count: 0, cancelled_by: null, cancelled_at: null, cancel_reason: null, paused_by: null, paused_at: null, completed_at: null,
  campaign_id: 'cmp_0000000001', campaign_name: 'Spring', campaign_kind: 'single', campaign_status: 'sending', campaign_alert_policy: null,
};
const links = { runbook: 'https://wiki.example.com/runbook?d=dep_0000000001', dashboard: 'https://grafana.example.com/d/x?var-alert=alr_0000000001' };
const extras: AlertExtras = { now: NOW, mention: '<!subteam^S0ONCALL01>', links };

type Element = { type: string; action_id: string; url?: string; options?: { value: string }[] };
const onCallElements = (a: AlertView, x: AlertExtras = extras) =>
  ((renderAlert(a, x).blocks.find((b) => b.block_id === 'alert_on_call') as { elements?: Element[] } | undefined)?.elements ?? []).map((e) => e.action_id);

describe('the alert message, on-call parts', () => {
  it('an open warning: the mention leads (text and a section); Acknowledge, Snooze and the two links', () => {
    const { text, blocks } = renderAlert(base, extras);
    expect(text.startsWith('<!subteam^S0ONCALL01> ')).toBe(true);
    expect(blocks[0]).toMatchObject({ block_id: 'alert_mention', text: { text: '<!subteam^S0ONCALL01>' } });
    expect(onCallElements(base)).toEqual(['acknowledge_alert', 'snooze_alert', 'open_alert_runbook', 'open_alert_dashboard']);
    const elements = (blocks.find((b) => b.block_id === 'alert_on_call') as { elements: Element[] }).elements;
    expect(elements[2]!.url).toBe(links.runbook);
    expect(elements[1]!.options!.map((o) => o.value)).toEqual(['v1:alr_0000000001:30m', 'v1:alr_0000000001:2h', 'v1:alr_0000000001:tomorrow']);
    expect(JSON.stringify(blocks)).toContain('Nobody has acknowledged this alert yet');
  });

  it('buttons per state: acknowledged (no Acknowledge), critical (no Snooze), resolved (links only), ended (plain links, no buttons)', () => {
    const acked = { ...base, acknowledged_by: 'U0ALICE001', acknowledged_at: new Date('2026-01-01T00:10:00Z') };
    expect(onCallElements(acked)).toEqual(['snooze_alert', 'open_alert_runbook', 'open_alert_dashboard']);
    expect(JSON.stringify(renderAlert(acked, extras).blocks)).toContain('Acknowledged by <@U0ALICE001> at <!date^1767226200^');
    expect(onCallElements({ ...base, severity: 'critical' })).toEqual(['acknowledge_alert', 'open_alert_runbook', 'open_alert_dashboard']);
    expect(onCallElements({ ...base, state: 'resolved' })).toEqual(['open_alert_runbook', 'open_alert_dashboard']);
    expect(onCallElements(base, { now: NOW })).toEqual(['acknowledge_alert', 'snooze_alert']);
    const ended = renderAlert({ ...base, deployment_status: 'completed' }, extras).blocks;
    expect(ended.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(ended)).toContain(`<${links.runbook}|Runbook> · <${links.dashboard}|Dashboard>`);
    // A resolved alert mentions nobody.
    expect(renderAlert({ ...base, state: 'resolved' }, extras).text).not.toContain('subteam');
  });

  it('who is on it: acknowledged, snoozed (until expiry), re-announced, nobody', () => {
    expect(onCallLine({ ...base, snoozed_by: 'U0BOB00001', snoozed_until: new Date('2026-01-01T03:00:00Z') }, NOW)).toMatch(/^:zzz: Snoozed by <@U0BOB00001> until <!date\^1767236400\^/);
    expect(onCallLine({ ...base, snoozed_by: 'U0BOB00001', snoozed_until: new Date('2026-01-01T00:30:00Z') }, NOW)).toBe(':bell: Nobody has acknowledged this alert yet');
    expect(onCallLine({ ...base, reannounced_at: new Date('2026-01-01T00:15:00Z') }, NOW)).toMatch(/^:mega: Nobody has acknowledged this alert; re-announced at/);
    expect(onCallLine({ ...base, state: 'resolved' }, NOW)).toBeUndefined();
    expect(onCallLine({ ...base, acknowledged_by: 'ops-cli <!here>', acknowledged_at: NOW }, NOW)).toContain('ops-cli &lt;!here&gt;');
  });

  it('draws the rate over the window with the thresholds as text', () => {
    const rates = [0.01, 0.01, null, 0.02, 0.04, 0.06, 0.09, 0.12];
    const chart = renderRateChart('Bounce rate', { rates, warn: 0.05, critical: 0.1, windowSeconds: 300 })!;
    expect(chart).toContain('*Bounce rate over the last 5 min* (the top bar is 12.5%)');
    expect(chart).toContain('`▁▁·▂▃▄▆█`');
    expect(chart).toContain('warn 5.0% · crit 10.0% · now 12.0% · over warn in 3 of 8 buckets');
    expect(renderRateChart('Bounce rate', { rates: [null, 0.1, null], warn: 0.05, critical: 0.1, windowSeconds: 300 })).toBeUndefined();
    const { blocks } = renderAlert(base, { ...extras, chart: { rates, warn: 0.05, critical: 0.1, windowSeconds: 300 } });
    expect(JSON.stringify(blocks.find((b) => b.block_id === 'alert_chart'))).toContain('▁▁·▂▃▄▆█');
  });

  it('stays within Slack limits with everything at once: long names, a chart, links, the mention', () => {
    const long = '<!channel>'.repeat(300);
    const a: AlertView = { ...base, campaign_name: long, deployment_name: long, acknowledged_by: 'x'.repeat(500), acknowledged_at: NOW, snoozed_until: new Date('2026-01-02T00:00:00Z'), snoozed_by: 'y'.repeat(500), top_domains: Array.from({ length: 20 }, (_, i) => ({ domain: `${'d'.repeat(250)}${i}`, count: 1 })) };
    const message = renderAlert(a, { ...extras, links: { runbook: `https://x.example.com/${'r'.repeat(2000)}`, dashboard: links.dashboard }, chart: { rates: Array.from({ length: 24 }, (_, i) => i / 100), warn: 0.05, critical: 0.1, windowSeconds: 300 } });
    expect(slackLimitProblems('message', message)).toEqual([]);
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.messageBlocks);
    // The runaway runbook link is left out, the dashboard kept; a snoozed warning can be snoozed again.
    expect(onCallElements(a, { ...extras, links: { runbook: `https://x.example.com/${'r'.repeat(2000)}`, dashboard: links.dashboard } })).toEqual(['snooze_alert', 'open_alert_dashboard']);
  });
});

describe('on-call values, replies and answers', () => {
  it('reads only its own snooze values', () => {
    expect(parseSnoozeValue(snoozeValue('alr_0000000001', '2h'))).toEqual({ alertId: 'alr_0000000001', choice: '2h' });
    for (const bad of ['v1:alr_0000000001:3d', 'v1:dep_0000000001:2h', 'v2:alr_0000000001:2h', 'v1:alr_0000000001', 42, null, 'v1:alr_0000000001:2h:x']) {
      expect(parseSnoozeValue(bad)).toBeUndefined();
    }
  });

  it('a re-announcement and a critical turn, in the thread, with the mention', () => {
    const re = renderOnCallReply({ type: 'on_call_reply', reason: 'reannounced', alertId: 'alr_0000000001', mention: '<!subteam^S0ONCALL01>', waitedSeconds: 900 }, base);
    expect(re.text).toBe('<!subteam^S0ONCALL01> :mega: Nobody has acknowledged this alert in 15 min: bounce rate 6.1% (warning). Acknowledge it, or pause or cancel the send.');
    const crit = renderOnCallReply({ type: 'on_call_reply', reason: 'critical', alertId: 'alr_0000000001', mention: null }, { ...base, severity: 'critical', acknowledged_by: 'U0ALICE001' });
    expect(crit.text).toBe(':rotating_light: This alert is now *critical*: bounce rate 6.1%. Acknowledged earlier by <@U0ALICE001>.');
  });

  it('answers an acknowledgement: done, already (who and when), or why not, escaped', () => {
    expect(acknowledgeMrkdwn({ ok: true, value: { alertIds: ['alr_0000000001'], at: NOW } })).toContain('You acknowledged alert `alr_0000000001`');
    expect(acknowledgeMrkdwn({ ok: false, code: 'already_acknowledged', reason: '', by: 'U0ALICE001', at: NOW })).toMatch(/^Already acknowledged by <@U0ALICE001> at <!date\^/);
    expect(acknowledgeMrkdwn({ ok: false, code: 'not_open', reason: 'dep_x <!here> has no open alert.' })).toBe('dep_x &lt;!here&gt; has no open alert. Nothing was changed.');
  });

  it('O8: /campaign ack takes one alert or deployment id; anything else gets the usage line', () => {
    expect(parseCommandText('ack alr_0000000001')).toEqual({ kind: 'ack', id: 'alr_0000000001' });
    expect(parseCommandText('ACK dep_0000000001')).toEqual({ kind: 'ack', id: 'dep_0000000001' });
    expect(parseCommandText('ack cmp_0000000001')).toMatchObject({ kind: 'reply', text: expect.stringContaining('needs an alert id') });
    expect(parseCommandText('ack')).toMatchObject({ kind: 'reply', text: expect.stringContaining('needs an alert id') });
    expect(parseCommandText('ack alr_0000000001 now')).toMatchObject({ kind: 'reply', text: expect.stringContaining('takes one id') });
  });

  it('App Home lists open alerts with who is on each', () => {
    const alert: OpenAlertOnCall = { id: 'alr_0000000001', deployment_id: 'dep_0000000001', deployment_name: 'D <!here>', campaign_name: 'C', metric: 'bounce', severity: 'critical', rate: 0.12, opened_at: NOW, acknowledged_by: null, acknowledged_at: null, snoozed_until: null, snoozed_by: null, reannounced_at: null };
    expect(whoIsOn(alert, NOW)).toBe('*nobody yet*');
    expect(whoIsOn({ ...alert, acknowledged_by: 'U0ALICE001', acknowledged_at: NOW }, NOW)).toMatch(/^acknowledged by <@U0ALICE001> <!date/);
    const view = homeView([], NOW, [alert, { ...alert, id: 'alr_0000000002', severity: 'warning', snoozed_by: 'U0BOB00001', snoozed_until: new Date('2026-01-01T02:00:00Z') }]);
    const all = JSON.stringify(view.blocks);
    expect(all).toContain('Open alerts');
    expect(all).toContain('D &lt;!here&gt;');
    expect(all).toContain('snoozed by <@U0BOB00001> until');
    expect(slackLimitProblems('home', view)).toEqual([]);
  });
});
