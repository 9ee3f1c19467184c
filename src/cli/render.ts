import type { DeliveryCounts } from '../domain/counts.js';
import { STATUS } from '../domain/lifecycle.js';
import type { SendPace } from '../domain/send-pace.js';
import type { ActiveDeployment, DeploymentRates, DeploymentReport, StatusReport } from '../services/status.js';

/** Plain-text and JSON renderings of the status read models for the CLI. */
const n = (value: number) => value.toLocaleString('en-US');
const when = (date: Date | null) => (date ? date.toISOString().replace('.000Z', 'Z') : '—');

export function countsLine(c: DeliveryCounts): string {
  return [
    `total ${n(c.total)}`,
    `pending ${n(c.pending)}`,
    `in flight ${n(c.inFlight)}`,
    `sent ${n(c.sent)}`,
    `bounced ${n(c.bounced)}`,
    `failed ${n(c.failed)}`,
    `unknown ${n(c.unknown)}`,
    `cancelled ${n(c.cancelled)}`,
  ].join('  ');
}

const percent = (rate: number | null) => (rate === null ? '—' : `${(rate * 100).toFixed(rate > 0 && rate < 0.001 ? 3 : 1)}%`);

export function ratesLine(r: DeploymentRates): string {
  return (['bounce', 'error', 'complaint'] as const).map((m) => `${m} ${percent(r[m].rate)} (${n(r[m].count)} of ${n(r[m].sample)})`).join('  ');
}

const perSecond = (rate: number) => `${rate < 10 ? rate.toFixed(1) : Math.round(rate)}/s`;

/** A sending deployment's pace: its own rate, or that it is waiting (deployments take turns). */
export function paceText(pace: SendPace): string {
  if (pace.state === 'handing-over') {
    return `handing over${pace.perSecond === null ? '' : ` ${perSecond(pace.perSecond)} (last minute)`}, last at ${when(pace.lastHandOffAt)}`;
  }
  return pace.lastHandOffAt ? `waiting: nothing handed over since ${when(pace.lastHandOffAt)}` : `waiting: nothing handed over yet (started ${when(pace.since)})`;
}

/** The short form for the activity table. */
function paceCell(pace: SendPace | null): string {
  if (!pace) return '—';
  if (pace.state === 'handing-over') return pace.perSecond === null ? 'handing over' : perSecond(pace.perSecond);
  return 'waiting';
}

function deploymentLines(d: DeploymentReport, indent: string): string[] {
  const lines = [`${indent}deployment ${d.id}  ${d.name}  ${d.status.toUpperCase()}  send at ${when(d.sendAt)}`];
  lines.push(`${indent}  ${countsLine(d.counts)}`);
  if (d.pace) lines.push(`${indent}  ${paceText(d.pace)}`);
  if (d.rates.bounce.sample > 0) lines.push(`${indent}  ${ratesLine(d.rates)}`);
  if (d.cancelledAt) {
    lines.push(`${indent}  cancelled by ${d.cancelledBy} at ${when(d.cancelledAt)}${d.cancelReason ? ` — ${d.cancelReason}` : ''}`);
  }
  if (d.pausedAt && d.status === STATUS.paused) lines.push(`${indent}  paused by ${d.pausedBy} at ${when(d.pausedAt)}`);
  if (d.batches.length > 1) {
    for (const b of d.batches) {
      lines.push(`${indent}  batch ${b.position} ${b.id}  ${b.status.toUpperCase()}  send at ${when(b.sendAt)}  ${countsLine(b.counts)}`);
    }
  }
  return lines;
}

export function renderStatusText(report: StatusReport): string {
  if (report.type === 'deployment') {
    const c = report.campaign;
    return [`campaign ${c.id}  ${c.name}  (${c.kind}, ${c.status}, priority ${c.priority})${lockText(c.lockedBy, c.lockedAt)}`, ...deploymentLines(report.deployment, '  ')].join('\n');
  }
  return [
    `campaign ${report.id}  ${report.name}  ${report.kind}  ${report.status.toUpperCase()}  priority ${report.priority}${lockText(report.lockedBy, report.lockedAt)}`,
    `  ${countsLine(report.counts)}`,
    ...(report.cancelledAt ? [`  cancelled by ${report.cancelledBy} at ${when(report.cancelledAt)}`] : []),
    ...report.deployments.flatMap((d) => deploymentLines(d, '  ')),
  ].join('\n');
}

const lockText = (by: string | null, at: Date | null) => (by ? `  [locked by ${by} since ${when(at)}]` : '');

export function renderActiveText(active: ActiveDeployment[]): string {
  if (active.length === 0) return 'Nothing is scheduled or sending.';
  const rows = active.map(({ campaign, deployment: d }) => [
    d.id,
    truncate(d.name, 32),
    campaign.kind,
    d.status,
    paceCell(d.pace),
    campaign.priority,
    when(d.sendAt),
    `${n(d.counts.sent + d.counts.bounced + d.counts.failed + d.counts.unknown)}/${n(d.counts.total)}`,
    percent(d.rates.bounce.rate),
    percent(d.rates.error.rate),
    percent(d.rates.complaint.rate),
  ]);
  return table(['DEPLOYMENT', 'NAME', 'KIND', 'STATUS', 'PACE', 'PRIORITY', 'SEND AT', 'DONE/TOTAL', 'BOUNCE', 'ERROR', 'COMPLAINT'], rows);
}

function truncate(text: string, max: number) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The stable JSON of DESIGN §6: every answer carries `deployments` with id, status, counts, cancelledBy, cancelledAt. */
export function statusJson(report: StatusReport) {
  if (report.type === 'deployment') {
    return { type: 'deployment', ...report.deployment, campaign: report.campaign, deployments: [report.deployment] };
  }
  return { ...report, campaignId: report.id };
}

export function activeJson(active: ActiveDeployment[]) {
  return {
    deployments: active.map(({ campaign, deployment }) => ({ ...deployment, campaignName: campaign.name, kind: campaign.kind, priority: campaign.priority, sendWeight: campaign.sendWeight })),
  };
}
