import { ALERT_STATE } from '../../domain/alert-states.js';
import { ACTIVE_DEPLOYMENT_STATUSES, canCancel, canPause, canResume, STATUS, type CampaignStatus, type DeploymentStatus } from '../../domain/lifecycle.js';
import type { AlertView } from '../../db/queries/slack-outbox.js';
import { ACTIONS, buttonValue } from '../button-value.js';
import { actorMention, clip, count, escape, percent, slackDate } from '../format.js';
import { button, context, section, type Block } from './common.js';
import { onCallActions, onCallLine, renderRateChart, type AlertLinks, type RateChart } from './on-call.js';

/**
 * The alert message, rendered from the current state at delivery time: names (escaped), status,
 * progress, each rate with its sample and a chart of it over the window, the top bouncing
 * domains, who is on it, and only the buttons that can still work (once the deployment has ended
 * only an open alert's Acknowledge and the links are left). The on-call mention leads an open
 * alert's message when the notifier decides it does.
 */
const METRICS = { bounce: 'Bounce rate', error: 'Error rate', complaint: 'Complaint rate' } as const;

export interface RenderedMessage {
  text: string;
  blocks: Block[];
}

function rateText(stat: AlertView['stats'][string]): string {
  if (!stat || stat.rate === undefined || stat.rate === null) return 'n/a';
  const cumulative = `${percent(stat.rate)} of ${count(stat.sample ?? 0)}`;
  return stat.windowRate === null || stat.windowRate === undefined ? cumulative : `${cumulative} · window ${percent(stat.windowRate)} of ${count(stat.windowSample ?? 0)}`;
}

export function alertButtons(a: Pick<AlertView, 'deployment_id' | 'deployment_status' | 'campaign_kind' | 'campaign_status'>): Block | undefined {
  const status = a.deployment_status as DeploymentStatus;
  if (!(ACTIVE_DEPLOYMENT_STATUSES as readonly string[]).includes(status)) return undefined;
  const value = buttonValue(a.deployment_id);
  const cancellable = a.campaign_kind === 'multi' ? canCancel('multi', a.campaign_status as CampaignStatus).ok : canCancel('single', status).ok;
  const elements = [
    ...(cancellable ? [button(a.campaign_kind === 'multi' ? 'Cancel campaign' : 'Cancel deployment', ACTIONS.cancel, value, 'danger')] : []),
    ...(canPause('single', status).ok ? [button('Pause', ACTIONS.pause, value)] : []),
    ...(canResume('single', status).ok ? [button('Resume', ACTIONS.resume, value, 'primary')] : []),
    button('Status', ACTIONS.status, value),
  ];
  return { type: 'actions', block_id: 'deployment_actions', elements };
}

/** What the alert message shows beyond the alert's own row: decided by the notifier from configuration and the samples. */
export interface AlertExtras {
  now?: Date;
  /** The on-call mention, when this alert's severity calls for it (domain/on-call.ts mentions). */
  mention?: string;
  links?: AlertLinks;
  chart?: RateChart;
}

export function renderAlert(a: AlertView, extras: AlertExtras = {}): RenderedMessage {
  const now = extras.now ?? new Date();
  const metric = METRICS[a.metric] ?? 'Rate';
  const names = `*${escape(a.campaign_name)}* / ${escape(a.deployment_name)} (\`${a.deployment_id}\`)`;
  const plainNames = `${a.campaign_name} (${a.deployment_id})`;
  const icon = a.state === ALERT_STATE.resolved ? ':white_check_mark:' : a.severity === 'critical' ? ':rotating_light:' : ':warning:';
  const headline =
    a.state === ALERT_STATE.resolved
      ? `${icon} ${metric} back to normal on ${names}`
      : `${icon} *${metric} ${percent(a.rate)}* (${a.severity}, threshold ${percent(a.threshold)}) on ${names}`;

  const answered = a.sent_count + a.bounced_count + a.failed_count + a.unknown_count;
  const fields = [
    `*Status*\n${a.deployment_status}${a.campaign_kind === 'multi' ? ` (campaign \`${a.campaign_id}\` ${a.campaign_status})` : ''}`,
    `*Progress*\n${count(answered)} / ${count(a.total_count)} sent${a.in_flight_count ? `, ${count(a.in_flight_count)} in flight` : ''}`,
    ...(['bounce', 'error', 'complaint'] as const).map((m) => `*${METRICS[m]}*\n${rateText(a.stats?.[m] ?? (m === a.metric ? { rate: a.rate, sample: a.sample } : undefined))}`),
  ];
  const mention = a.state === ALERT_STATE.open && extras.mention ? extras.mention : undefined;
  const chart = extras.chart && renderRateChart(metric, extras.chart);
  const blocks: Block[] = [
    ...(mention ? [section(mention, 'alert_mention')] : []),
    section(clip(headline), 'alert_summary'),
    { type: 'section', block_id: 'alert_fields', fields: fields.map((text) => ({ type: 'mrkdwn', text: clip(text, 1900) })) },
  ];
  if (chart) blocks.push(section(clip(chart), 'alert_chart'));
  const domains = (a.top_domains ?? []).slice(0, 5);
  if (domains.length) blocks.push(section(clip(`*Top bouncing domains*: ${domains.map((d) => `${escape(String(d.domain))} (${count(Number(d.count) || 0)})`).join(', ')}`), 'alert_domains'));
  if (a.auto_paused) blocks.push(context(`:pause_button: Auto-paused: ${escape(a.auto_paused)}. Resume or cancel below.`));

  let outcome: string | undefined;
  if (a.deployment_status === STATUS.cancelled) {
    outcome = `:no_entry: *Cancelled* by ${actorMention(a.cancelled_by)} at ${slackDate(a.cancelled_at)}. ${count(a.cancelled_count)} will never be sent.${a.cancel_reason ? ` Reason: ${escape(a.cancel_reason)}` : ''}`;
  } else if (a.deployment_status === STATUS.completed) {
    outcome = `:checkered_flag: *Completed* at ${slackDate(a.completed_at)}: ${count(answered)} sent. Nothing left to stop.`;
  } else if (a.deployment_status === STATUS.paused) {
    outcome = `:pause_button: *Paused* by ${actorMention(a.paused_by)} at ${slackDate(a.paused_at)}.`;
  }
  if (outcome) blocks.push(section(clip(outcome), 'alert_outcome'));
  const onCall = onCallLine(a, now);
  if (onCall) blocks.push(context(onCall));
  const actions = alertButtons(a);
  if (actions) blocks.push(actions);
  const onCallButtons = onCallActions(a, extras.links ?? {}, (ACTIVE_DEPLOYMENT_STATUSES as readonly string[]).includes(a.deployment_status));
  if (onCallButtons) blocks.push(onCallButtons);
  blocks.push(context(`Alert \`${a.id}\` · ${a.metric} · opened ${slackDate(a.opened_at)}${a.resolved_at ? ` · resolved ${slackDate(a.resolved_at)}` : ''}`));

  const state = a.deployment_status === STATUS.cancelled ? ` cancelled by ${a.cancelled_by ?? 'someone'}` : a.state === ALERT_STATE.resolved ? ' resolved' : '';
  const text = `${metric} ${percent(a.rate)} (${a.severity}) on ${plainNames}${state}`;
  return { text: `${mention ? `${mention} ` : ''}${escape(text)}`, blocks };
}
