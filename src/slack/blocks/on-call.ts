import type { types } from '@slack/bolt';
import { ALERT_STATE } from '../../domain/alert-states.js';
import { canAcknowledge, canSnooze, isSnoozed, SNOOZE_CHOICES, SNOOZE_LABELS, waitedFor, type SnoozeChoice } from '../../domain/on-call.js';
import { chartLevel, chartScale } from '../../domain/rate-chart.js';
import type { AlertView } from '../../db/queries/slack-outbox.js';
import type { OnCallReplyPayload } from '../../db/queries/on-call.js';
import { ID_PATTERN } from '../../lib/ids.js';
import { ACTIONS, buttonValue } from '../button-value.js';
import type { Result } from '../../domain/result.js';
import type { AcknowledgeOutcome, Snoozed } from '../../services/alerts/acknowledgement.js';
import { actorMention, escape, percent, slackDate } from '../format.js';
import { button, context, section, type Block } from './common.js';

/**
 * The on-call parts of an alert message: who is on it (acknowledged, snoozed, re-announced, or
 * nobody yet), the Acknowledge button and the Snooze menu while they can work, the runbook and
 * dashboard links, and the rate chart; and the replies in its thread that mention the on-call
 * group (an escalation to critical, a re-announcement).
 */
export type AlertOnCall = Pick<AlertView, 'id' | 'state' | 'severity' | 'acknowledged_by' | 'acknowledged_at' | 'snoozed_until' | 'snoozed_by' | 'reannounced_at'>;

const stateOf = (a: AlertOnCall) => ({
  state: a.state,
  severity: a.severity,
  acknowledgedBy: a.acknowledged_by,
  acknowledgedAt: a.acknowledged_at ? new Date(a.acknowledged_at) : null,
  snoozedUntil: a.snoozed_until ? new Date(a.snoozed_until) : null,
});

/** "Acknowledged by @x at …", "Snoozed by @x until …", or who has not: one line, or none for a resolved alert nobody took. */
export function onCallLine(a: AlertOnCall, now: Date): string | undefined {
  const ack = a.acknowledged_by ? `:eyes: Acknowledged by ${actorMention(a.acknowledged_by)} at ${slackDate(a.acknowledged_at)}` : undefined;
  if (a.state !== ALERT_STATE.open) return ack;
  const snooze = a.snoozed_until && isSnoozed(new Date(a.snoozed_until), now) ? `:zzz: Snoozed by ${actorMention(a.snoozed_by)} until ${slackDate(a.snoozed_until)}` : undefined;
  if (ack || snooze) return [ack, snooze].filter(Boolean).join(' · ');
  if (a.reannounced_at) return `:mega: Nobody has acknowledged this alert; re-announced at ${slackDate(a.reannounced_at)}`;
  return ':bell: Nobody has acknowledged this alert yet';
}

export function snoozeValue(alertId: string, choice: SnoozeChoice): string {
  return `${buttonValue(alertId)}:${choice}`;
}

/** `v1:<alert id>:<choice>` → what to snooze for how long; anything else undefined. */
export function parseSnoozeValue(value: unknown): { alertId: string; choice: SnoozeChoice } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^v1:([a-z0-9_]+):([a-z0-9]+)$/.exec(value);
  if (!match || !ID_PATTERN.test(match[1]!) || !match[1]!.startsWith('alr_')) return undefined;
  const choice = SNOOZE_CHOICES.find((c) => c === match[2]);
  return choice ? { alertId: match[1]!, choice } : undefined;
}

export interface AlertLinks {
  runbook?: string;
  dashboard?: string;
}

/**
 * A link Slack takes: a button's url may have 3,000 characters, and both links must fit one
 * context block's 3,000 once the deployment has ended. A longer one (a runaway template) is left out.
 */
const MAX_LINK = 1400;
const fits = (url: string | undefined) => (url && url.length <= MAX_LINK && !/[<>|]/.test(url) ? url : undefined);

/**
 * While the deployment is live: Acknowledge and Snooze while they can work, and the link buttons.
 * Once it has ended there is nothing left to act on: the links become plain links (a context
 * block), so the message keeps no buttons. undefined when there is nothing to show.
 */
export function onCallActions(a: AlertOnCall, allLinks: AlertLinks, live: boolean): Block | undefined {
  const links = { runbook: fits(allLinks.runbook), dashboard: fits(allLinks.dashboard) };
  if (!live) {
    const plain = [links.runbook && `<${links.runbook}|Runbook>`, links.dashboard && `<${links.dashboard}|Dashboard>`].filter(Boolean);
    return plain.length ? context(plain.join(' · ')) : undefined;
  }
  const state = stateOf(a);
  const elements: types.ActionsBlockElement[] = [];
  if (canAcknowledge(state).ok) elements.push(button('Acknowledge', ACTIONS.acknowledge, buttonValue(a.id), 'primary'));
  if (canSnooze(state).ok) {
    const options = SNOOZE_CHOICES.map((choice) => ({ text: { type: 'plain_text' as const, text: SNOOZE_LABELS[choice] }, value: snoozeValue(a.id, choice) }));
    elements.push({ type: 'static_select', action_id: ACTIONS.snooze, placeholder: { type: 'plain_text', text: 'Snooze…' }, options });
  }
  if (links.runbook) elements.push({ ...button('Runbook', ACTIONS.runbook, buttonValue(a.id)), url: links.runbook });
  if (links.dashboard) elements.push({ ...button('Dashboard', ACTIONS.dashboard, buttonValue(a.id)), url: links.dashboard });
  return elements.length ? { type: 'actions', block_id: 'alert_on_call', elements } : undefined;
}

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

export interface RateChart {
  /** The rate in each bucket over the window, oldest first; null where nothing was answered. */
  rates: (number | null)[];
  warn: number;
  critical: number;
  windowSeconds: number;
}

/**
 * The rate over the window as a sparkline in a code span (a bucket with no answers is a dot),
 * with the thresholds and the latest bucket's rate as text. undefined with fewer than two buckets of data.
 */
export function renderRateChart(metricName: string, chart: RateChart): string | undefined {
  const known = chart.rates.filter((r): r is number => r !== null);
  if (known.length < 2) return undefined;
  const scale = chartScale(chart.rates, chart.critical);
  const line = chart.rates.map((r) => {
    const level = chartLevel(r, scale, BARS.length);
    return level === null ? '·' : BARS[level]!;
  });
  const over = (r: number | null) => r !== null && r >= chart.warn;
  return [
    `*${metricName} over the last ${waitedFor(chart.windowSeconds)}* (the top bar is ${percent(scale.top)})`,
    `\`${line.join('')}\``,
    `warn ${percent(chart.warn)} · crit ${percent(chart.critical)} · now ${percent(known.at(-1))}${chart.rates.some(over) ? ` · over warn in ${chart.rates.filter(over).length} of ${chart.rates.length} buckets` : ''}`,
  ].join('\n');
}

/** A reply in the alert's thread: a re-announcement, or the mention of an escalation to critical. */
export function renderOnCallReply(p: OnCallReplyPayload, a: Pick<AlertView, 'severity' | 'metric' | 'rate' | 'acknowledged_by'>): { text: string; blocks: Block[] } {
  const mention = p.mention ? `${p.mention} ` : '';
  const text =
    p.reason === 'reannounced'
      ? `${mention}:mega: Nobody has acknowledged this alert in ${waitedFor(p.waitedSeconds ?? 0)}: ${a.metric} rate ${percent(a.rate)} (${a.severity}). Acknowledge it, or pause or cancel the send.`
      : `${mention}:rotating_light: This alert is now *critical*: ${a.metric} rate ${percent(a.rate)}.${a.acknowledged_by ? ` Acknowledged earlier by ${actorMention(a.acknowledged_by)}.` : ' Acknowledge it, or pause or cancel the send.'}`;
  return { text, blocks: [section(text, `on_call_${p.reason}`), context(`Alert \`${p.alertId}\``)] };
}

/** The answer to an acknowledgement, for the responder only. */
export function acknowledgeMrkdwn(outcome: AcknowledgeOutcome): string {
  if (outcome.ok) {
    const ids = outcome.value.alertIds.map((id) => `\`${id}\``).join(', ');
    return `:eyes: You acknowledged ${outcome.value.alertIds.length === 1 ? 'alert' : 'alerts'} ${ids}: nobody will be re-announced or paged about ${outcome.value.alertIds.length === 1 ? 'it' : 'them'}. Anyone allowed can still pause or cancel the send.`;
  }
  if (outcome.code === 'already_acknowledged') return `Already acknowledged by ${actorMention(outcome.by)} at ${slackDate(outcome.at)}. Nothing was changed.`;
  return `${escape(outcome.reason)} Nothing was changed.`;
}

/** The answer to a snooze, for the responder only. */
export function snoozeMrkdwn(outcome: Result<Snoozed, string>): string {
  if (!outcome.ok) return `${escape(outcome.reason)} Nothing was changed.`;
  return `:zzz: Snoozed \`${outcome.value.alertId}\` until ${slackDate(outcome.value.until)}: no mention or re-announcement until then. If it turns critical the snooze ends and it alerts again.`;
}
