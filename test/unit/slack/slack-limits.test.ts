import { describe, expect, it } from 'vitest';
import type { AlertView } from '../../../src/db/queries/slack-outbox.js';
import { LIMITS } from '../../../src/domain/campaign-spec.js';
import type { DeploymentStatus } from '../../../src/domain/lifecycle.js';
import type { ActiveDeployment, BatchReport, CampaignReport, DeploymentReport } from '../../../src/services/status.js';
import { renderAlert } from '../../../src/slack/blocks/alert.js';
import { homeView } from '../../../src/slack/blocks/home.js';
import { campaignModal, cancelModal, noticeModal } from '../../../src/slack/blocks/modal.js';
import { outcomeMrkdwn } from '../../../src/slack/blocks/outcome.js';
import { renderActive, renderReport, renderText, USAGE } from '../../../src/slack/blocks/status.js';
import { renderCancelConfirmation, renderCancelSettled } from '../../../src/slack/blocks/thread.js';
import { SLACK_LIMITS } from '../../../src/slack/blocks/common.js';
import { slackLimitProblems } from '../../support/slack-limits.js';

/**
 * T3 (issue 19, finding 5): the largest messages and views we can produce stay within Slack's
 * limits (50 blocks a message, 100 a view, 3,000 characters a section's text): a campaign of the
 * most deployments and batches the import allows, names of the longest allowed length made of
 * characters that escaping lengthens, reasons of the longest kept length.
 */
const NAME = '&<>'.repeat(Math.ceil(LIMITS.name / 3)).slice(0, LIMITS.name);
const REASON = '<'.repeat(500);
const when = new Date('2026-12-01T09:00:00Z');
const counts = { total: 1_000_000_000, pending: 0, inFlight: 123_456, sent: 999_999_999, bounced: 888_888_888, failed: 777_777_777, unknown: 666_666_666, cancelled: 555_555_555 };

const batch = (position: number, status: string): BatchReport => ({ id: `bat_${String(position).padStart(10, '0')}`, position, status, sendAt: when, counts }) as BatchReport;

function deployment(position: number, status: DeploymentStatus, batches: number): DeploymentReport {
  return {
    id: `dep_${String(position).padStart(10, '0')}`, campaignId: 'cmp_0000000001', name: `${NAME} (${position} of ${LIMITS.deployments})`, position, status, sendAt: when, counts,
    cancelledBy: 'an-operator-typed-in-the-cli@example.com', cancelledAt: when, cancelReason: REASON, pausedBy: 'U0ALICE001', pausedAt: when, startedAt: when, completedAt: when,
    lastHandOffAt: when, pace: { state: 'waiting', since: when, lastHandOffAt: when },
    rates: { bounce: { rate: 0.123456, count: 1, sample: 2 }, error: { rate: 0.5, count: 1, sample: 2 }, complaint: { rate: null, count: 0, sample: 0 } },
    batches: Array.from({ length: batches }, (_, i) => batch(i + 1, 'cancelled')),
  };
}

function campaign(deployments: number, batches: number, status: DeploymentStatus = 'sending'): CampaignReport {
  return {
    type: 'campaign', id: 'cmp_0000000001', name: NAME, kind: 'multi', priority: '100', status, lockedBy: '<!channel>'.repeat(20), lockedAt: when, sendAt: when, counts,
    cancelledBy: null, cancelledAt: null, cancelReason: null, createdAt: when,
    deployments: Array.from({ length: deployments }, (_, i) => deployment(i + 1, i % 3 === 1 ? 'cancelled' : 'sending', batches)),
  } as CampaignReport;
}

const alert: AlertView = {
  id: 'alr_0000000001', deployment_id: 'dep_0000000001', metric: 'bounce', severity: 'critical', state: 'open', rate: 0.9, sample: 1e9, threshold: 0.05,
  stats: { bounce: { rate: 0.9, sample: 1e9, windowRate: 0.9, windowSample: 1e9 }, error: { rate: 0.9, sample: 1e9, windowRate: 0.9, windowSample: 1e9 }, complaint: { rate: 0.9, sample: 1e9, windowRate: 0.9, windowSample: 1e9 } },
  top_domains: Array.from({ length: 20 }, (_, i) => ({ domain: `${'<'.repeat(250)}${i}.example`, count: 1e9 })), auto_paused: REASON, slack_channel: null, slack_ts: null,
  opened_at: when, escalated_at: when, resolved_at: when,
  deployment_name: NAME, deployment_status: 'cancelled', total_count: 1e9, sent_count: 1e9, bounced_count: 1e9, failed_count: 1e9, unknown_count: 1e9,
  in_flight_count: 1e9, cancelled_count: 1e9, cancelled_by: 'x'.repeat(200), cancelled_at: when, cancel_reason: REASON, paused_by: null, paused_at: null, completed_at: when,
  campaign_id: 'cmp_0000000001', campaign_name: NAME, campaign_kind: 'multi', campaign_status: 'sending',
  acknowledged_by: null, acknowledged_at: null, snoozed_until: null, snoozed_by: null, reannounced_at: null, campaign_alert_policy: null,
};

describe('T3: Slack messages and views within Slack limits', () => {
  it('/campaign status and the Status button of a 50-deployment × 2-batch multi campaign: at most 50 blocks, the rest summarised with a pointer', () => {
    const report = campaign(50, 2);
    const message = renderReport(report);
    expect(slackLimitProblems('message', message)).toEqual([]);
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.messageBlocks);
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('dep_0000000001');
    expect(text).toContain('batch 2: cancelled');
    const last = JSON.stringify(message.blocks.at(-1));
    expect(last).toMatch(/…and \d+ more deployments \(\d+ sending, \d+ cancelled; /);
    expect(last).toContain('campaign-guard status cmp_0000000001');
    // Shown plus summarised is every deployment.
    const shown = message.blocks.filter((b) => /dep_\d{10}/.test(JSON.stringify(b)) && b.type === 'section').length;
    expect(shown + Number(/…and (\d+) more/.exec(last)![1])).toBe(50);
  });

  it('a campaign that fits is shown whole, with no summary', () => {
    const message = renderReport(campaign(40, 2));
    expect(message.blocks).toHaveLength(41);
    expect(JSON.stringify(message.blocks)).not.toContain('more deployments');
  });

  it('the largest shapes: every renderer, every surface', () => {
    for (const [deployments, batches] of [[LIMITS.deployments, LIMITS.batches], [LIMITS.deployments, 2], [1, LIMITS.batches], [100, 1]] as const) {
      const report = campaign(deployments, batches);
      expect(slackLimitProblems('message', renderReport(report)), `message ${deployments}×${batches}`).toEqual([]);
      const view = campaignModal(NAME, renderReport(report, { buttons: true, maxBlocks: SLACK_LIMITS.viewBlocks }).blocks);
      expect(slackLimitProblems('modal', view), `View modal ${deployments}×${batches}`).toEqual([]);
      expect(JSON.stringify(view.blocks)).toContain('cancel_deployment');
      expect(slackLimitProblems('modal', cancelModal(report, JSON.stringify({ v: 1, target: report.id }), REASON)), `cancel modal ${deployments}×${batches}`).toEqual([]);
      const single = { type: 'deployment' as const, campaign: report, deployment: report.deployments[0]! };
      expect(slackLimitProblems('message', renderReport(single))).toEqual([]);
    }
    const active: ActiveDeployment[] = Array.from({ length: 500 }, (_, i) => ({ campaign: campaign(0, 0), deployment: deployment(i + 1, 'sending', LIMITS.batches) }));
    expect(slackLimitProblems('message', renderActive(active))).toEqual([]);
    expect(slackLimitProblems('home', homeView(active, when))).toEqual([]);
    expect(slackLimitProblems('message', renderAlert(alert))).toEqual([]);
    const ids = Array.from({ length: LIMITS.deployments }, (_, i) => `dep_${String(i).padStart(10, '0')}`);
    const cancelled = { outcome: 'cancelled' as const, target: 'cmp_0000000001', deploymentIds: ids, counts: { contacted: 1e9, inFlight: 1e9, neverSent: 1e9 }, at: when, lockOverride: { holder: NAME, since: when } };
    expect(slackLimitProblems('message', renderCancelConfirmation({ type: 'cancel_confirmation', target: 'cmp_0000000001', actor: 'x'.repeat(200), reason: REASON, campaignName: NAME, outcome: cancelled }))).toEqual([]);
    expect(slackLimitProblems('message', renderCancelSettled({ type: 'cancel_settled', deploymentId: ids[0]!, sent: 1e9, bounced: 1e9, failed: 1e9, unknown: 1e9, neverSent: 1e9, total: 1e9 }))).toEqual([]);
    expect(slackLimitProblems('message', renderText(outcomeMrkdwn(cancelled)))).toEqual([]);
    expect(slackLimitProblems('message', renderText(USAGE))).toEqual([]);
    expect(slackLimitProblems('modal', noticeModal(NAME, REASON.repeat(20)))).toEqual([]);
  });

  it('the checker finds what Slack refuses (so the cases above can fail)', () => {
    const sections = (n: number, text = 'x') => Array.from({ length: n }, () => ({ type: 'section', text: { type: 'mrkdwn', text } }));
    expect(slackLimitProblems('message', { blocks: sections(51) })).toEqual(['51 blocks in a message (at most 50)']);
    expect(slackLimitProblems('modal', { blocks: sections(100), title: { text: 'ok' } })).toEqual([]);
    expect(slackLimitProblems('home', { blocks: sections(101) })).toEqual(['101 blocks in a home (at most 100)']);
    expect(slackLimitProblems('message', { blocks: sections(1, 'x'.repeat(3001)) })).toEqual(['blocks[0].text: 3001 characters (at most 3000)']);
    expect(slackLimitProblems('modal', { blocks: [], title: { text: 'x'.repeat(25) } })).toEqual(['title: 25 characters (at most 24)']);
  });
});
