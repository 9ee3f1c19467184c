import type { types } from '@slack/bolt';
import type { ActiveDeployment } from '../../services/status.js';
import { ACTIONS, buttonValue } from '../button-value.js';
import type { OpenAlertOnCall } from '../../db/queries/on-call.js';
import { isSnoozed } from '../../domain/on-call.js';
import { actorMention, clip, escape, percent, shortName, slackDate } from '../format.js';
import { context, divider, section, type Block } from './common.js';
import { deploymentLine } from './status.js';

/** App Home: the open alerts with who is on each, then the activity monitor with a View button per deployment. */
const MAX_ROWS = 40;
const MAX_ALERTS = 10;

/** "acknowledged by @x", "snoozed until …", or "nobody yet": who is on an open alert. */
export function whoIsOn(a: Pick<OpenAlertOnCall, 'acknowledged_by' | 'acknowledged_at' | 'snoozed_until' | 'snoozed_by' | 'reannounced_at'>, now: Date): string {
  const parts: string[] = [];
  if (a.acknowledged_by) parts.push(`acknowledged by ${actorMention(a.acknowledged_by)} ${slackDate(a.acknowledged_at)}`);
  if (a.snoozed_until && isSnoozed(new Date(a.snoozed_until), now)) parts.push(`snoozed by ${actorMention(a.snoozed_by)} until ${slackDate(a.snoozed_until)}`);
  if (parts.length === 0) parts.push(a.reannounced_at ? '*nobody yet* (re-announced)' : '*nobody yet*');
  return parts.join(' · ');
}

function alertLines(alerts: OpenAlertOnCall[], now: Date): Block[] {
  if (alerts.length === 0) return [];
  const lines = alerts.slice(0, MAX_ALERTS).map(
    (a) => `${a.severity === 'critical' ? ':rotating_light:' : ':warning:'} ${escape(a.metric)} ${percent(a.rate)} on *${shortName(a.campaign_name, 60)}* / ${shortName(a.deployment_name, 60)} (\`${a.id}\`): ${whoIsOn(a, now)}`,
  );
  if (alerts.length > MAX_ALERTS) lines.push(`…and ${alerts.length - MAX_ALERTS} more open alerts`);
  return [{ type: 'header', text: { type: 'plain_text', text: 'Open alerts' } }, section(clip(lines.join('\n'))), divider()];
}

export function homeView(rows: ActiveDeployment[], at: Date, alerts: OpenAlertOnCall[] = []): types.HomeView {
  const blocks: Block[] = [...alertLines(alerts, at), { type: 'header', text: { type: 'plain_text', text: 'Activity monitor' } }];
  if (rows.length === 0) blocks.push(section(':zzz: Nothing is sending or scheduled right now.'));
  for (const r of rows.slice(0, MAX_ROWS)) {
    blocks.push({
      type: 'section',
      block_id: `row_${r.deployment.id}`,
      text: { type: 'mrkdwn', text: clip(deploymentLine(r.campaign.name, r.deployment)) },
      accessory: { type: 'button', text: { type: 'plain_text', text: 'View' }, action_id: ACTIONS.view, value: buttonValue(r.campaign.id) },
    });
  }
  if (rows.length > MAX_ROWS) blocks.push(context(`…and ${rows.length - MAX_ROWS} more; use /campaign status`));
  blocks.push(divider(), context(`Updated ${at.toISOString().replace(/\.\d{3}Z$/, 'Z')} · refreshed as deployments change`));
  return { type: 'home', blocks };
}
