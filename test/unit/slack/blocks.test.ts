import { describe, expect, it } from 'vitest';
import type { AlertView } from '../../../src/db/queries/slack-outbox.js';
import type { DeploymentStatus } from '../../../src/domain/lifecycle.js';
import type { StatusReport } from '../../../src/services/status.js';
import { cancelModal } from '../../../src/slack/blocks/modal.js';
import { renderAlert } from '../../../src/slack/blocks/alert.js';
import { renderDeploymentFault } from '../../../src/slack/blocks/fault.js';
import { outcomeMrkdwn, outcomePlain } from '../../../src/slack/blocks/outcome.js';
import { renderCancelConfirmation } from '../../../src/slack/blocks/thread.js';
import { parseButtonValue, parseMetadata } from '../../../src/slack/button-value.js';
import { escape, percent } from '../../../src/slack/format.js';

const base: AlertView = {
  id: 'alr_0000000001', deployment_id: 'dep_0000000001', metric: 'bounce', severity: 'warning', state: 'open', rate: 0.061, sample: 1200, threshold: 0.05,
  stats: { bounce: { rate: 0.061, sample: 1200, windowRate: 0.08, windowSample: 300 }, error: { rate: 0.004, sample: 1200, windowRate: null, windowSample: null } },
  top_domains: [{ domain: 'bad<!here>.com', count: 40 }], auto_paused: null, slack_channel: null, slack_ts: null,
  opened_at: new Date('2026-01-01T00:00:00Z'), escalated_at: null, resolved_at: null,
  deployment_name: 'Spring <!channel> Sale', deployment_status: 'sending', total_count: 120000, sent_count: 41000, bounced_count: 150, failed_count: 40, unknown_count: 10,
  in_flight_count: 8, cancelled_count: 0, cancelled_by: null, cancelled_at: null, cancel_reason: null, paused_by: null, paused_at: null, completed_at: null,
  campaign_id: 'cmp_0000000001', campaign_name: 'Spring <!channel> Sale', campaign_kind: 'single', campaign_status: 'sending',
  acknowledged_by: null, acknowledged_at: null, snoozed_until: null, snoozed_by: null, reannounced_at: null, campaign_alert_policy: null,
};

const actionIds = (a: AlertView) => {
  const actions = renderAlert(a).blocks.find((b) => b.type === 'actions') as { elements: { action_id: string; style?: string }[] } | undefined;
  return actions?.elements.map((e) => e.action_id) ?? [];
};

describe('alert message', () => {
  it('shows names escaped, status, progress, each rate with its sample, top domains', () => {
    const { text, blocks } = renderAlert(base);
    const all = JSON.stringify(blocks) + text;
    expect(all).not.toMatch(/<!channel>|<!here>/);
    expect(all).toContain('Spring &lt;!channel&gt; Sale');
    expect(all).toContain('41,200 / 120,000 sent');
    expect(all).toContain('6.1% of 1,200 · window 8.0% of 300');
    expect(all).toContain('0.4% of 1,200');
    expect(all).toContain('bad&lt;!here&gt;.com (40)');
  });

  it('offers only the buttons that can still work', () => {
    expect(actionIds(base)).toEqual(['cancel_deployment', 'pause_deployment', 'deployment_status']);
    expect(actionIds({ ...base, deployment_status: 'paused' })).toEqual(['cancel_deployment', 'resume_deployment', 'deployment_status']);
    expect(actionIds({ ...base, deployment_status: 'cancelled', cancelled_by: 'U0ALICE001', cancelled_at: new Date() })).toEqual([]);
    expect(actionIds({ ...base, deployment_status: 'completed' })).toEqual([]);
    // A multi campaign is cancelled as a whole, while the campaign is cancellable.
    expect(actionIds({ ...base, campaign_kind: 'multi', deployment_status: 'prefetching', campaign_status: 'scheduled' })[0]).toBe('cancel_deployment');
    const danger = (renderAlert(base).blocks.find((b) => b.type === 'actions') as { elements: { style?: string }[] }).elements[0]!;
    expect(danger.style).toBe('danger');
  });

  it('says who cancelled and when, with the reason escaped', () => {
    const all = JSON.stringify(renderAlert({ ...base, deployment_status: 'cancelled', cancelled_by: 'U0ALICE001', cancelled_at: new Date('2026-01-01T00:05:00Z'), cancel_reason: '<!channel> list', cancelled_count: 78800 }).blocks);
    expect(all).toContain('*Cancelled* by <@U0ALICE001> at <!date^');
    expect(all).toContain('Reason: &lt;!channel&gt; list');
    // A CLI actor is text, not a mention.
    expect(JSON.stringify(renderAlert({ ...base, deployment_status: 'cancelled', cancelled_by: '<!here>' }).blocks)).toContain('by &lt;!here&gt;');
  });
});

describe('outcomes and replies', () => {
  it('keeps the CLI words, escaping what users typed', () => {
    const o = { outcome: 'already_cancelled' as const, target: 'dep_0000000001', by: 'U0BOB00001', at: new Date('2026-01-01T00:00:00Z') };
    expect(outcomeMrkdwn(o)).toBe('dep_0000000001 was already cancelled by <@U0BOB00001> at 2026-01-01T00:00:00Z. Cancelled is final.');
    expect(outcomePlain(o)).toContain('already cancelled by U0BOB00001');
    expect(outcomeMrkdwn({ outcome: 'not_permitted', target: 'x', why: '<!channel> no' })).toContain('&lt;!channel&gt;');
    const reply = renderCancelConfirmation({
      type: 'cancel_confirmation', target: 'dep_0000000001', actor: 'U0ALICE001', reason: '<!here>', campaignName: 'A <b>',
      outcome: { outcome: 'cancelled', target: 'dep_0000000001', deploymentIds: ['dep_0000000001'], counts: { contacted: 5, inFlight: 1, neverSent: 4 }, at: new Date(), lockOverride: { holder: '<!channel>', since: null } },
    });
    expect(reply.text).toContain('5 already sent, 1 in flight (cannot be recalled), 4 will never be sent. This cannot be undone; the campaign cannot be restarted.');
    expect(reply.text).not.toMatch(/<!here>|<!channel>|<b>/);
  });

  it('formats rates and escapes the three characters', () => {
    expect(percent(0.061)).toBe('6.1%');
    expect(percent(0.1234)).toBe('12.3%');
    expect(percent(null)).toBe('n/a');
    expect(escape('a & <b> c')).toBe('a &amp; &lt;b&gt; c');
  });

  it('refuses button values and modal metadata of another version or shape', () => {
    expect(parseButtonValue('v1:dep_0000000001')).toBe('dep_0000000001');
    for (const v of ['dep_0000000001', 'v2:dep_0000000001', 'v1:dep_1 OR 1=1', '{"v":1}', 42, null]) expect(parseButtonValue(v)).toBeUndefined();
    expect(parseMetadata('{"v":1,"target":"dep_0000000001","deploymentId":"dep_0000000001","channel":"C0ALERTS01","ts":"1.2"}')).toMatchObject({ target: 'dep_0000000001', channel: 'C0ALERTS01' });
    for (const m of ['{"v":2,"target":"dep_0000000001"}', 'not json', '{"v":1,"target":"x; drop"}', undefined]) expect(parseMetadata(m)).toBeUndefined();
  });
});

describe('the cancel modal', () => {
  const deployment = (id: string, position: number, status: DeploymentStatus, sent: number) => ({
    id, campaignId: 'cmp_0000000009', name: `Wave ${position}`, position, status, sendAt: null,
    counts: { total: 100, pending: 100 - sent - 2, inFlight: 2, sent, bounced: 0, failed: 0, unknown: 0, cancelled: 0 },
    cancelledBy: null, cancelledAt: null, cancelReason: null, pausedBy: null, pausedAt: null, startedAt: null, completedAt: null, lastHandOffAt: null, pace: null, batches: [],
    rates: { bounce: { rate: 0, count: 0, sample: sent }, error: { rate: 0, count: 0, sample: sent }, complaint: { rate: 0, count: 0, sample: sent } },
  });
  const multi: StatusReport = {
    type: 'campaign', id: 'cmp_0000000009', name: 'Big <!channel> push', kind: 'multi', status: 'sending', lockedBy: 'U0EDITOR01', lockedAt: new Date(), priority: 'normal', sendWeight: 1,
    sendAt: null, counts: { total: 300, pending: 0, inFlight: 0, sent: 0, bounced: 0, failed: 0, unknown: 0, cancelled: 0 }, cancelledBy: null, cancelledAt: null, cancelReason: null, createdAt: new Date(),
    deployments: [deployment('dep_000000000a', 1, 'sending', 50), deployment('dep_000000000b', 2, 'scheduled', 0), deployment('dep_000000000c', 3, 'completed', 98)],
  };

  it('lists every deployment of a multi campaign that will stop, the counts, the lock and the irreversibility', () => {
    const view = cancelModal(multi, '{"v":1}');
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('dep_000000000a');
    expect(text).toContain('dep_000000000b');
    expect(text).not.toContain('dep_000000000c');
    expect(text).toContain('*Sent so far:* 50');
    expect(text).toContain('*In flight (cannot be recalled):* 4');
    expect(text).toContain('*Will never be sent:* 146');
    expect(text).toContain('<@U0EDITOR01> is editing this campaign');
    expect(text).toContain('This cannot be undone; the campaign cannot be restarted');
    expect(text).toContain('Big &lt;!channel&gt; push');
    expect(text).not.toContain('<!channel>');
    expect(view.title.text).toBe('Cancel campaign?');
    expect(view.private_metadata).toBe('{"v":1}');
    const input = view.blocks.find((b) => b.type === 'input') as { optional?: boolean; block_id?: string };
    expect(input).toMatchObject({ block_id: 'reason', optional: true });
  });
});

describe('deployment fault message', () => {
  it('says the deployment was paused and why, names escaped, and how to go on', () => {
    const { text, blocks } = renderDeploymentFault({ type: 'deployment_fault', deploymentId: 'dep_0000000001', deploymentName: 'List <!here> B', campaignName: 'Spring <!channel> Sale', cause: 'the message to recipient 7 cannot be built (Unexpected end of JSON input)' });
    const all = JSON.stringify(blocks) + text;
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<!here>');
    expect(text).toContain('was *paused* by Campaign Guard: the message to recipient 7 cannot be built');
    expect(text).toContain('resume');
    expect(JSON.stringify(blocks)).toContain('dep_0000000001');
  });
});
