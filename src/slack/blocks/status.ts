import { sumCounts } from '../../domain/counts.js';
import { ACTIVE_DEPLOYMENT_STATUSES, STATUS } from '../../domain/lifecycle.js';
import type { SendPace } from '../../domain/send-pace.js';
import type { ActiveDeployment, CampaignReport, DeploymentReport, StatusReport } from '../../services/status.js';
import { ACTIONS, buttonValue } from '../button-value.js';
import { actorMention, clip, escape, shortName, slackDate } from '../format.js';
import { button, context, progressLine, ratesLine, section, SLACK_LIMITS, type Block } from './common.js';
import type { RenderedMessage } from './alert.js';

/** `/campaign status` answers: the activity monitor, one campaign or deployment, help. */
const MAX_ROWS = 40;

export function deploymentLine(campaignName: string, d: DeploymentReport): string {
  const label = campaignName === d.name ? `*${shortName(d.name)}*` : `*${shortName(campaignName)}* / ${shortName(d.name)}`;
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
  if (d.status === STATUS.cancelled) return `Cancelled by ${actorMention(d.cancelledBy)} at ${slackDate(d.cancelledAt)}${d.cancelReason ? ` — ${escape(d.cancelReason)}` : ''}`;
  if (d.status === STATUS.paused) return `Paused by ${actorMention(d.pausedBy)} at ${slackDate(d.pausedAt)}`;
  if (d.status === STATUS.completed) return `Completed at ${slackDate(d.completedAt)}`;
  return undefined;
}

function deploymentText(campaignName: string, d: DeploymentReport): string {
  const ended = endedLine(d);
  const batches = d.batches.length > 1 ? clip(d.batches.map((b) => `batch ${b.position}: ${b.status}, ${b.counts.sent + b.counts.bounced + b.counts.failed + b.counts.unknown}/${b.counts.total}`).join(' · '), 1000) : undefined;
  return [clip(deploymentLine(campaignName, d), 1200), ...(ended ? [clip(ended, 600)] : []), ...(batches ? [batches] : [])].join('\n');
}

/** The deployments that did not fit: how many, in which statuses, their counts, and where to see them all. */
function restSummary(campaign: CampaignReport, rest: DeploymentReport[]): string {
  const statuses = new Map<string, number>();
  for (const d of rest) statuses.set(d.status, (statuses.get(d.status) ?? 0) + 1);
  const which = [...statuses].map(([status, n]) => `${n} ${status}`).join(', ');
  return (
    `…and ${rest.length} more deployments (${which}; ${progressLine(sumCounts(rest.map((d) => d.counts)))}). ` +
    `Campaign total: ${progressLine(campaign.counts)}. \`campaign-guard status ${campaign.id}\` lists every deployment; \`/campaign status <deployment id>\` shows one.`
  );
}

/**
 * One campaign or deployment, each deployment in one section (its batches on a line of their
 * own). `maxBlocks`: the surface's limit (a message by default; a modal takes a view's): a
 * campaign with more deployments than fit shows the first ones and a summary of the rest.
 */
export function renderReport(report: StatusReport, options: { buttons?: boolean; maxBlocks?: number } = {}): RenderedMessage {
  const campaign = report.type === 'campaign' ? report : report.campaign;
  const deployments = report.type === 'campaign' ? report.deployments : [report.deployment];
  const blocks: Block[] = [
    section(clip(`*${escape(campaign.name)}* (\`${campaign.id}\`, ${campaign.kind}, priority ${campaign.priority}) is *${campaign.status}*${campaign.lockedBy ? ` · edit lock held by ${actorMention(campaign.lockedBy)}` : ''}`)),
  ];
  if (options.buttons) {
    const live = deployments.find((d) => (ACTIVE_DEPLOYMENT_STATUSES as readonly string[]).includes(d.status));
    if (live) blocks.push({ type: 'actions', block_id: 'campaign_actions', elements: [button(campaign.kind === 'multi' ? 'Cancel campaign' : 'Cancel deployment', ACTIONS.cancel, buttonValue(live.id), 'danger')] });
  }
  const room = (options.maxBlocks ?? SLACK_LIMITS.messageBlocks) - blocks.length;
  const shown = deployments.length <= room ? deployments : deployments.slice(0, room - 1);
  for (const d of shown) blocks.push(section(clip(deploymentText(campaign.name, d))));
  if (report.type === 'campaign' && shown.length < deployments.length) blocks.push(context(clip(restSummary(report, deployments.slice(shown.length)))));
  return { text: `${escape(campaign.name)} (${campaign.id}) is ${campaign.status}`, blocks };
}

export const USAGE = [
  '*/campaign* — what is sending, and the tools to stop it:',
  '• `/campaign status` — the active deployments',
  '• `/campaign status <id or name>` — one campaign or deployment',
  '• `/campaign cancel <id> [reason]` — cancel (asks for confirmation; cannot be undone)',
  '• `/campaign pause <id>` · `/campaign resume <id>` — the reversible tools',
  "• `/campaign ack <alert id or deployment id>` — \"I'm on it\": acknowledge an alert (or every open alert of a deployment); stops its re-announcement",
  '• `/campaign help` — this message',
].join('\n');

export function renderText(text: string): RenderedMessage {
  return { text, blocks: [section(clip(text))] };
}
