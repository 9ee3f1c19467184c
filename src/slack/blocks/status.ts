import type { SendPace } from '../../domain/send-pace.js';
import type { ActiveDeployment, DeploymentReport, StatusReport } from '../../services/status.js';
import { ACTIONS, buttonValue } from '../button-value.js';
import { actorMention, clip, escape, slackDate } from '../format.js';
import { button, context, progressLine, ratesLine, section, type Block } from './common.js';
import type { RenderedMessage } from './alert.js';

/** `/campaign status` answers: the activity monitor, one campaign or deployment, help. */
const MAX_ROWS = 40;

export function deploymentLine(campaignName: string, d: DeploymentReport): string {
  const label = campaignName === d.name ? `*${escape(d.name)}*` : `*${escape(campaignName)}* / ${escape(d.name)}`;
  return `${label} (\`${d.id}\`) · *${d.status}*${paceText(d.pace)} · ${progressLine(d.counts)} · ${ratesLine(d.counts)}`;
}

/** A sending deployment says whether it hands messages over now (its own rate) or waits its turn. */
function paceText(pace: SendPace | null): string {
  if (!pace) return '';
  if (pace.state === 'handing-over') return pace.perSecond === null ? ' (handing over)' : ` (${pace.perSecond < 10 ? pace.perSecond.toFixed(1) : Math.round(pace.perSecond)}/s)`;
  return pace.lastHandOffAt ? ` (waiting: nothing handed over since ${slackDate(pace.lastHandOffAt)})` : ' (waiting: nothing handed over yet)';
}

export function renderActive(rows: ActiveDeployment[]): RenderedMessage {
  if (rows.length === 0) return { text: 'Nothing is sending or scheduled right now.', blocks: [section(':zzz: Nothing is sending or scheduled right now.')] };
  const shown = rows.slice(0, MAX_ROWS);
  const blocks: Block[] = [section(`*Active deployments* (${rows.length}${rows.length > MAX_ROWS ? `, first ${MAX_ROWS} shown` : ''})`)];
  for (const r of shown) blocks.push(section(clip(deploymentLine(r.campaign.name, r.deployment))));
  blocks.push(context('`/campaign status <id or name>` for one · `/campaign cancel <id>` to stop one'));
  return { text: `${rows.length} active deployment(s)`, blocks };
}

function endedLine(d: DeploymentReport): string | undefined {
  if (d.status === 'cancelled') return `Cancelled by ${actorMention(d.cancelledBy)} at ${slackDate(d.cancelledAt)}${d.cancelReason ? ` — ${escape(d.cancelReason)}` : ''}`;
  if (d.status === 'paused') return `Paused by ${actorMention(d.pausedBy)} at ${slackDate(d.pausedAt)}`;
  if (d.status === 'completed') return `Completed at ${slackDate(d.completedAt)}`;
  return undefined;
}

export function renderReport(report: StatusReport, options: { buttons?: boolean } = {}): RenderedMessage {
  const campaign = report.type === 'campaign' ? report : report.campaign;
  const deployments = report.type === 'campaign' ? report.deployments : [report.deployment];
  const blocks: Block[] = [
    section(clip(`*${escape(campaign.name)}* (\`${campaign.id}\`, ${campaign.kind}, priority ${campaign.priority}) is *${campaign.status}*${campaign.lockedBy ? ` · edit lock held by ${actorMention(campaign.lockedBy)}` : ''}`)),
  ];
  for (const d of deployments.slice(0, MAX_ROWS)) {
    const ended = endedLine(d);
    blocks.push(section(clip(`${deploymentLine(campaign.name, d)}${ended ? `\n${ended}` : ''}`)));
    if (d.batches.length > 1) {
      blocks.push(context(clip(d.batches.map((b) => `batch ${b.position}: ${b.status}, ${b.counts.sent + b.counts.bounced + b.counts.failed + b.counts.unknown}/${b.counts.total}`).join(' · '), 1900)));
    }
  }
  if (options.buttons) {
    const live = deployments.find((d) => !['completed', 'cancelled', 'draft'].includes(d.status));
    if (live) blocks.splice(1, 0, { type: 'actions', block_id: 'campaign_actions', elements: [button(campaign.kind === 'multi' ? 'Cancel campaign' : 'Cancel deployment', ACTIONS.cancel, buttonValue(live.id), 'danger')] });
  }
  return { text: `${escape(campaign.name)} (${campaign.id}) is ${campaign.status}`, blocks };
}

export const USAGE = [
  '*/campaign* — what is sending, and the tools to stop it:',
  '• `/campaign status` — the active deployments',
  '• `/campaign status <id or name>` — one campaign or deployment',
  '• `/campaign cancel <id> [reason]` — cancel (asks for confirmation; cannot be undone)',
  '• `/campaign pause <id>` · `/campaign resume <id>` — the reversible tools',
  '• `/campaign help` — this message',
].join('\n');

export function renderText(text: string): RenderedMessage {
  return { text, blocks: [section(clip(text))] };
}
