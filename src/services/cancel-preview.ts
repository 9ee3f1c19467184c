import { addCounts, countsAtCommit, type ControlOutcome } from '../domain/cancel-outcome.js';
import { canCancel, type CampaignStatus, type DeploymentStatus } from '../domain/lifecycle.js';
import type { StatusReport, StatusService } from './status.js';

/**
 * What a cancel of `id` would stop, read before a responder confirms: the unit that is cancelled
 * (a `multi` campaign as a whole, whichever of its deployments was named), its report, or the
 * outcome that says why there is nothing to cancel. The cancel itself re-checks all of this in
 * its transaction; this only decides what to show.
 */
export type CancelPreview =
  | { ok: true; target: string; report: StatusReport; firstDeploymentId: string }
  /** `stale`: the unit already ended (a button on an old message). */
  | { ok: false; outcome: ControlOutcome; stale: boolean };

export async function previewCancel(status: Pick<StatusService, 'lookup'>, id: string): Promise<CancelPreview> {
  const notFound: CancelPreview = { ok: false, outcome: { outcome: 'not_found', target: id }, stale: false };
  const found = await status.lookup(id);
  if (!found.ok) return notFound;
  let report: StatusReport = found.value;
  const campaign = report.type === 'campaign' ? report : report.campaign;
  if (campaign.kind === 'multi' && report.type === 'deployment') {
    const whole = await status.lookup(campaign.id);
    if (!whole.ok) return notFound;
    report = whole.value;
  }
  const deployments = report.type === 'campaign' ? report.deployments : [report.deployment];
  const first = deployments[0];
  if (!first) return notFound;
  const multi = campaign.kind === 'multi';
  const target = multi ? campaign.id : first.id;
  const unit = multi
    ? { status: campaign.status, by: report.type === 'campaign' ? report.cancelledBy : null, at: report.type === 'campaign' ? report.cancelledAt : null }
    : { status: first.status, by: first.cancelledBy, at: first.cancelledAt };
  const check = multi ? canCancel('multi', unit.status as CampaignStatus) : canCancel('single', unit.status as DeploymentStatus);
  if (check.ok) return { ok: true, target, report, firstDeploymentId: first.id };
  const outcome: ControlOutcome =
    check.code === 'already_cancelled'
      ? { outcome: 'already_cancelled', target, by: unit.by, at: unit.at }
      : check.code === 'already_completed'
        ? { outcome: 'already_completed', target, counts: addCounts(deployments.map((d) => countsAtCommit(d.counts))) }
        : { outcome: 'not_allowed', target, status: unit.status, why: check.reason };
  return { ok: false, outcome, stale: check.code === 'already_cancelled' || check.code === 'already_completed' };
}
