import { countsFrom, sumCounts, type DeliveryCounts } from '../domain/counts.js';
import { STATUS, type CampaignStatus, type DeploymentStatus, type Kind } from '../domain/lifecycle.js';
import { ok, refused, type Result } from '../domain/result.js';
import { sendPace, type SendPace } from '../domain/send-pace.js';
import { sendPriorityLabel } from '../domain/send-weight.js';
import { totals, type Metric } from '../domain/thresholds.js';
import type { Executor } from '../db/client.js';
import { listBatchesOfDeployments, type BatchRow } from '../db/queries/batches.js';
import { findCampaign, findCampaignsByName, type CampaignRow } from '../db/queries/campaigns.js';
import {
  findDeployment,
  findDeploymentsByName,
  listActiveDeployments,
  listDeploymentsOfCampaign,
  oldestRecentSamples,
  type DeploymentRow,
} from '../db/queries/deployments.js';
import { ID_PATTERN, idKind } from '../lib/ids.js';

/** Read models for `status` in the CLI and Slack: what is sending, what was sent, what was stopped. */
export interface BatchReport {
  id: string;
  position: number;
  status: string;
  sendAt: Date | null;
  counts: DeliveryCounts;
  cancelledBy: string | null;
  cancelledAt: Date | null;
}

export interface DeploymentReport {
  id: string;
  campaignId: string;
  name: string;
  position: number;
  status: DeploymentStatus;
  sendAt: Date | null;
  counts: DeliveryCounts;
  cancelledBy: string | null;
  cancelledAt: Date | null;
  cancelReason: string | null;
  pausedBy: string | null;
  pausedAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
  /** When one of its messages was last handed to the transport. */
  lastHandOffAt: Date | null;
  /** While sending: handing over (its own rate over the last minute) or waiting; null otherwise. */
  pace: SendPace | null;
  /** Over the deployment's whole life, each with its sample (the monitor also keeps a rolling window). */
  rates: DeploymentRates;
  batches: BatchReport[];
}

export type DeploymentRates = Record<Metric, { rate: number | null; count: number; sample: number }>;

function ratesOf(d: DeploymentRow): DeploymentRates {
  const t = totals({ sent: d.sentCount, bounced: d.bouncedCount, failed: d.failedCount, unknown: d.unknownCount, complaints: d.complaintCount });
  const one = (m: Metric) => ({ rate: t[m].sample > 0 ? t[m].count / t[m].sample : null, count: t[m].count, sample: t[m].sample });
  return { bounce: one('bounce'), error: one('error'), complaint: one('complaint') };
}

export interface CampaignSummary {
  id: string;
  name: string;
  kind: Kind;
  status: CampaignStatus;
  lockedBy: string | null;
  lockedAt: Date | null;
  /** Its share of the send capacity when deployments send at once: high, normal, low or `weight N`. */
  priority: string;
  sendWeight: number;
}

export interface CampaignReport extends CampaignSummary {
  type: 'campaign';
  sendAt: Date | null;
  counts: DeliveryCounts;
  cancelledBy: string | null;
  cancelledAt: Date | null;
  cancelReason: string | null;
  createdAt: Date;
  deployments: DeploymentReport[];
}

export interface SingleDeploymentReport {
  type: 'deployment';
  campaign: CampaignSummary;
  deployment: DeploymentReport;
}

export type StatusReport = CampaignReport | SingleDeploymentReport;
export type LookupRefusal = 'not_found' | 'ambiguous' | 'invalid_reference';

export interface ActiveDeployment {
  campaign: CampaignSummary;
  deployment: DeploymentReport;
}

const MAX_REFERENCE = 200;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const batchReport = (b: BatchRow): BatchReport => ({
  id: b.id,
  position: b.position,
  status: b.status,
  sendAt: b.sendAt,
  counts: countsFrom(b),
  cancelledBy: b.cancelledBy,
  cancelledAt: b.cancelledAt,
});

/** Messages settled per second since a snapshot, per deployment: its own pace, whatever the others do. */
export type HandOffRates = Map<string, number>;
const RATE_WINDOW_SECONDS = 60;

const deploymentReport = (d: DeploymentRow, batches: BatchRow[], rates: HandOffRates, now: Date): DeploymentReport => ({
  id: d.id,
  campaignId: d.campaignId,
  name: d.name,
  position: d.position,
  status: d.status as DeploymentStatus,
  sendAt: d.sendAt,
  counts: countsFrom(d),
  cancelledBy: d.cancelledBy,
  cancelledAt: d.cancelledAt,
  cancelReason: d.cancelReason,
  pausedBy: d.pausedBy,
  pausedAt: d.pausedAt,
  startedAt: d.startedAt,
  completedAt: d.completedAt,
  lastHandOffAt: d.lastHandOffAt,
  pace: sendPace({ status: d.status, startedAt: d.startedAt, lastHandOffAt: d.lastHandOffAt, perSecond: rates.get(d.id) ?? null }, now) ?? null,
  rates: ratesOf(d),
  batches: batches.filter((b) => b.deploymentId === d.id).map(batchReport),
});

const campaignSummary = (c: CampaignRow): CampaignSummary => ({
  id: c.id,
  name: c.name,
  kind: c.kind,
  status: c.status as CampaignStatus,
  lockedBy: c.lockedBy,
  lockedAt: c.lockedAt,
  priority: sendPriorityLabel(c.sendWeight),
  sendWeight: c.sendWeight,
});

export function createStatusService(deps: { db: Executor; clock?: () => Date }) {
  const { db } = deps;
  const clock = deps.clock ?? (() => new Date());

  /** The sending ones' own rates over the last minute, from the monitor's snapshots. */
  async function handOffRates(rows: DeploymentRow[], now: Date): Promise<HandOffRates> {
    const sending = new Map(rows.filter((d) => d.status === STATUS.sending).map((d) => [d.id, d]));
    const rates: HandOffRates = new Map();
    for (const sample of await oldestRecentSamples(db, [...sending.keys()], RATE_WINDOW_SECONDS)) {
      const d = sending.get(sample.deploymentId)!;
      const seconds = (now.getTime() - sample.takenAt.getTime()) / 1000;
      const settled = d.sentCount + d.bouncedCount + d.failedCount + d.unknownCount;
      if (seconds >= 2) rates.set(d.id, Math.max(0, settled - sample.attempted) / seconds);
    }
    return rates;
  }

  async function reports(rows: DeploymentRow[]): Promise<DeploymentReport[]> {
    const now = clock();
    const batches = await listBatchesOfDeployments(db, rows.map((d) => d.id));
    const rates = await handOffRates(rows, now);
    return rows.map((d) => deploymentReport(d, batches, rates, now));
  }

  async function campaignReport(campaign: CampaignRow): Promise<CampaignReport> {
    const deployments = await reports(await listDeploymentsOfCampaign(db, campaign.id));
    return {
      type: 'campaign',
      ...campaignSummary(campaign),
      sendAt: campaign.sendAt,
      counts: sumCounts(deployments.map((d) => d.counts)),
      cancelledBy: campaign.cancelledBy,
      cancelledAt: campaign.cancelledAt,
      cancelReason: campaign.cancelReason,
      createdAt: campaign.createdAt,
      deployments,
    };
  }

  async function singleDeploymentReport(deployment: DeploymentRow): Promise<SingleDeploymentReport> {
    const campaign = (await findCampaign(db, deployment.campaignId))!;
    const [report] = await reports([deployment]);
    return { type: 'deployment', campaign: campaignSummary(campaign), deployment: report! };
  }

  const notFound = (reference: string) =>
    refused('not_found' as const, `No campaign or deployment matches "${reference.slice(0, 60)}".`);

  return {
    /** By id (cmp_…, dep_…) or by exact name, case-insensitive. */
    async lookup(rawReference: string): Promise<Result<StatusReport, LookupRefusal>> {
      const reference = rawReference.normalize('NFKC').trim();
      if (reference === '' || reference.length > MAX_REFERENCE || CONTROL.test(reference)) {
        return refused('invalid_reference', 'Give a campaign or deployment id (like dep_0a1b2c3d4e) or its exact name.');
      }
      if (ID_PATTERN.test(reference)) {
        const kind = idKind(reference);
        if (kind === 'campaign') {
          const campaign = await findCampaign(db, reference);
          return campaign ? ok(await campaignReport(campaign)) : notFound(reference);
        }
        if (kind === 'deployment') {
          const deployment = await findDeployment(db, reference);
          return deployment ? ok(await singleDeploymentReport(deployment)) : notFound(reference);
        }
        return notFound(reference);
      }
      const campaigns = await findCampaignsByName(db, reference);
      const deployments = campaigns.length === 0 ? await findDeploymentsByName(db, reference) : [];
      const matches = [...campaigns.map((c) => c.id), ...deployments.map((d) => d.id)];
      if (matches.length > 1) {
        return refused('ambiguous', `"${reference.slice(0, 60)}" matches ${matches.length} items; use an id: ${matches.join(', ')}`);
      }
      if (campaigns[0]) return ok(await campaignReport(campaigns[0]));
      if (deployments[0]) return ok(await singleDeploymentReport(deployments[0]));
      return notFound(reference);
    },

    /** The activity monitor: every live deployment with its campaign. */
    async active(limit = 100): Promise<ActiveDeployment[]> {
      const rows = await listActiveDeployments(db, limit);
      const deployments = await reports(rows.map((r) => r.deployment));
      return rows.map((r, i) => ({ campaign: campaignSummary(r.campaign), deployment: deployments[i]! }));
    },
  };
}

export type StatusService = ReturnType<typeof createStatusService>;
