import type { AlertView } from '../db/queries/slack-outbox.js';
import type { PagerOutboxRow } from '../db/queries/pager-outbox.js';
import type { PagerAction } from '../domain/pager-events.js';
import { fillLinkTemplate } from '../config/on-call.js';
import { percent } from '../slack/format.js';

/**
 * One pager event as every destination tells it: the alert as it was when the event was written
 * (severity, rate and threshold from the outbox row), named by its campaign and deployment, with
 * links back to the Slack message, the runbook and the dashboard. PagerDuty and the webhook each
 * put it in their own format.
 */
export interface PagerEvent {
  /** The outbox row's dedupe key: the same on every retry, so a receiver can dedupe on it. */
  id: string;
  action: PagerAction;
  alertId: string;
  metric: 'bounce' | 'error' | 'complaint';
  severity: 'warning' | 'critical';
  rate: number;
  threshold: number;
  summary: string;
  campaign: { id: string; name: string };
  deployment: { id: string; name: string; status: string };
  alertState: string;
  openedAt: Date;
  occurredAt: Date;
  links: { href: string; text: string }[];
}

export interface EventLinks {
  runbook: string | undefined;
  dashboard: string | undefined;
  /** Slack's workspace URL (auth.test `url`, e.g. https://acme.slack.com/), for the message's permalink. */
  slackWorkspaceUrl: string | undefined;
}

/** PagerDuty's limit for payload.summary; the webhook keeps to it too. */
export const SUMMARY_MAX = 1024;

/** At most `max` UTF-16 units (JSON's and PagerDuty's count), cut between code points, with an ellipsis. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let kept = '';
  for (const point of text) {
    if (kept.length + point.length > max - 1) break;
    kept += point;
  }
  return `${kept}…`;
}

export function slackPermalink(workspaceUrl: string, channel: string, ts: string): string {
  return `${workspaceUrl.endsWith('/') ? workspaceUrl : `${workspaceUrl}/`}archives/${channel}/p${ts.replace('.', '')}`;
}

function why(action: PagerAction, view: AlertView, row: PagerOutboxRow): string {
  if (action === 'trigger') {
    const minutes = Math.floor((new Date(row.created_at).getTime() - new Date(view.opened_at).getTime()) / 60_000);
    return `open ${minutes < 1 ? 'less than a minute' : `${minutes} min`}, nobody acknowledged`;
  }
  if (action === 'acknowledge') return 'acknowledged in Slack';
  if (view.state === 'resolved') return 'back to normal';
  return `deployment ${view.deployment_status}`;
}

export function describePagerEvent(row: PagerOutboxRow, view: AlertView, links: EventLinks): PagerEvent {
  const severity = row.payload.severity ?? view.severity;
  const rate = row.payload.rate ?? view.rate;
  const threshold = row.payload.threshold ?? view.threshold;
  const metric = view.metric;
  const names = `${view.campaign_name} / ${view.deployment_name} (${view.deployment_id})`;
  const line = `${metric[0]!.toUpperCase()}${metric.slice(1)} rate ${percent(rate)} (${severity}, threshold ${percent(threshold)}) on ${names} — ${why(row.action, view, row)}`;
  const summary = cut(line, SUMMARY_MAX);
  const fill = { campaign_id: view.campaign_id, deployment_id: view.deployment_id, alert_id: view.id, metric };
  return {
    id: row.dedupe_key,
    action: row.action,
    alertId: view.id,
    metric,
    severity,
    rate,
    threshold,
    summary,
    campaign: { id: view.campaign_id, name: view.campaign_name },
    deployment: { id: view.deployment_id, name: view.deployment_name, status: view.deployment_status },
    alertState: view.state,
    openedAt: new Date(view.opened_at),
    occurredAt: new Date(row.created_at),
    links: [
      ...(links.slackWorkspaceUrl && view.slack_channel && view.slack_ts ? [{ href: slackPermalink(links.slackWorkspaceUrl, view.slack_channel, view.slack_ts), text: 'Alert in Slack' }] : []),
      ...(links.runbook ? [{ href: fillLinkTemplate(links.runbook, fill), text: 'Runbook' }] : []),
      ...(links.dashboard ? [{ href: fillLinkTemplate(links.dashboard, fill), text: 'Dashboard' }] : []),
    ],
  };
}
