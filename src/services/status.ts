import { countsFrom, sumCounts, type DeliveryCounts } from '../domain/counts.js';
import type { CampaignStatus, DeploymentStatus, Kind } from '../domain/lifecycle.js';
import { ok, refused, type Result } from '../domain/result.js';
import { totals, type Metric } from '../domain/thresholds.js';
import type { Executor } from '../db/client.js';
import { listBatchesOfDeployments, type BatchRow } from '../db/queries/batches.js';
import { findCampaign, findCampaignsByName, type CampaignRow } from '../db/queries/campaigns.js';
import {
  findDeployment,
  findDeploymentsByName,
  listActiveDeployments,
  listDeploymentsOfCampaign,
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

const deploymentReport = (d: DeploymentRow, batches: BatchRow[]): DeploymentReport => ({
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
});

export function createStatusService(deps: { db: Executor }) {
  const { db } = deps;

  async function campaignReport(campaign: CampaignRow): Promise<CampaignReport> {
    const rows = await listDeploymentsOfCampaign(db, campaign.id);
    const batches = await listBatchesOfDeployments(db, rows.map((d) => d.id));
    const deployments = rows.map((d) => deploymentReport(d, batches));
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
    const batches = await listBatchesOfDeployments(db, [deployment.id]);
    return { type: 'deployment', campaign: campaignSummary(campaign), deployment: deploymentReport(deployment, batches) };
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
      const batches = await listBatchesOfDeployments(db, rows.map((r) => r.deployment.id));
      return rows.map((r) => ({ campaign: campaignSummary(r.campaign), deployment: deploymentReport(r.deployment, batches) }));
    },
  };
}

export type StatusService = ReturnType<typeof createStatusService>;
