import type { types } from '@slack/bolt';
import { countsAtCommit, addCounts, type ControlOutcome } from '../../domain/cancel-outcome.js';
import { canCancel, type CampaignStatus, type DeploymentStatus } from '../../domain/lifecycle.js';
import type { StatusReport } from '../../services/status.js';
import { encodeMetadata } from '../button-value.js';
import { cancelModal } from '../blocks/modal.js';
import { outcomeMrkdwn } from '../blocks/outcome.js';
import type { ListenerDeps } from './support.js';

/**
 * Shared by the Cancel button and `/campaign cancel`: what the modal shows, or why there is
 * nothing to cancel (a stale button: the deployment already ended).
 */
export type PreparedCancel = { ok: true; view: types.ModalView; target: string } | { ok: false; text: string; stale: boolean };

export async function prepareCancel(deps: Pick<ListenerDeps, 'status'>, id: string, message: { channel: string | null; ts: string | null }): Promise<PreparedCancel> {
  const found = await deps.status.lookup(id);
  if (!found.ok) return { ok: false, text: outcomeMrkdwn({ outcome: 'not_found', target: id }), stale: false };
  let report: StatusReport = found.value;
  const campaign = report.type === 'campaign' ? report : report.campaign;
  if (campaign.kind === 'multi' && report.type === 'deployment') {
    const whole = await deps.status.lookup(campaign.id);
    if (!whole.ok) return { ok: false, text: outcomeMrkdwn({ outcome: 'not_found', target: id }), stale: false };
    report = whole.value;
  }
  const deployments = report.type === 'campaign' ? report.deployments : [report.deployment];
  const first = deployments[0];
  if (!first) return { ok: false, text: outcomeMrkdwn({ outcome: 'not_found', target: id }), stale: false };
  const target = campaign.kind === 'multi' ? campaign.id : first.id;
  const unit = campaign.kind === 'multi' ? { status: campaign.status, by: report.type === 'campaign' ? report.cancelledBy : null, at: report.type === 'campaign' ? report.cancelledAt : null } : { status: first.status, by: first.cancelledBy, at: first.cancelledAt };
  const check = campaign.kind === 'multi' ? canCancel('multi', unit.status as CampaignStatus) : canCancel('single', unit.status as DeploymentStatus);
  if (!check.ok) {
    const counts = addCounts(deployments.map((d) => countsAtCommit(d.counts)));
    const outcome: ControlOutcome =
      check.code === 'already_cancelled'
        ? { outcome: 'already_cancelled', target, by: unit.by, at: unit.at }
        : check.code === 'already_completed'
          ? { outcome: 'already_completed', target, counts }
          : { outcome: 'not_allowed', target, status: unit.status, why: check.reason };
    return { ok: false, text: outcomeMrkdwn(outcome), stale: check.code === 'already_cancelled' || check.code === 'already_completed' };
  }
  return { ok: true, target, view: cancelModal(report, encodeMetadata({ target, deploymentId: first.id, channel: message.channel, ts: message.ts })) };
}
