import { fillLinkTemplate, type OnCallConfig } from '../config/on-call.js';
import { mentions } from '../domain/on-call.js';
import { bucketRates } from '../domain/rate-chart.js';
import { applyOverride, type Policy } from '../domain/thresholds.js';
import type { SqlExecutor } from '../db/client.js';
import { rateSnapshots } from '../db/queries/on-call.js';
import type { AlertView } from '../db/queries/slack-outbox.js';
import { parsePolicyOverride } from '../services/alerts/monitor.js';
import type { AlertExtras } from './blocks/alert.js';

/**
 * What an alert message shows beyond its own row, decided when it is delivered: the on-call
 * mention (by severity, not while snoozed, not once acknowledged), the runbook and dashboard links filled in with its
 * ids, and the chart of its rate over the window (from the monitor's snapshots, against the
 * campaign's thresholds) ending now, or when the alert resolved or its deployment ended.
 */
export interface AlertMessageSettings {
  onCall: Pick<OnCallConfig, 'mention' | 'mentionMinSeverity' | 'links'>;
  /** The configured alert policy (a campaign's override goes on top). */
  policy: Policy;
  windowSeconds: number;
}

export function createAlertExtras(sql: SqlExecutor, settings: AlertMessageSettings | undefined) {
  return async (view: AlertView, now = new Date()): Promise<AlertExtras> => {
    if (!settings) return { now };
    const { onCall } = settings;
    const snoozedUntil = view.snoozed_until ? new Date(view.snoozed_until) : null;
    // Once someone is on it the message stops calling for the group (an edit notifies nobody anyway).
    const mention = onCall.mention && !view.acknowledged_by && mentions(view.severity, onCall.mentionMinSeverity, snoozedUntil, now) ? onCall.mention : undefined;
    const values = { campaign_id: view.campaign_id, deployment_id: view.deployment_id, alert_id: view.id, metric: view.metric };
    const links = {
      ...(onCall.links.runbook ? { runbook: fillLinkTemplate(onCall.links.runbook, values) } : {}),
      ...(onCall.links.dashboard ? { dashboard: fillLinkTemplate(onCall.links.dashboard, values) } : {}),
    };
    const endedAt = view.cancelled_at ?? view.completed_at ?? view.resolved_at;
    const end = endedAt && new Date(endedAt).getTime() < now.getTime() ? new Date(endedAt) : now;
    const parsed = parsePolicyOverride(view.campaign_alert_policy);
    const applied = applyOverride(settings.policy, parsed.ok ? parsed.override : null);
    const thresholds = (applied.ok ? applied.policy : settings.policy).thresholds[view.metric];
    const snapshots = await rateSnapshots(sql, view.deployment_id, view.metric, settings.windowSeconds, end);
    const rates = bucketRates(snapshots, settings.windowSeconds, end);
    return { now, mention, links, chart: { rates, warn: thresholds.warn, critical: thresholds.critical, windowSeconds: settings.windowSeconds } };
  };
}
