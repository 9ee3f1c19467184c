import type { types } from '@slack/bolt';
import { previewCancel } from '../../services/cancel-preview.js';
import { encodeMetadata } from '../button-value.js';
import { cancelModal } from '../blocks/modal.js';
import { outcomeMrkdwn } from '../blocks/outcome.js';
import type { ListenerDeps } from './support.js';

/**
 * Shared by the Cancel button and `/campaign cancel`: the service's preview, rendered as the
 * modal, or as why there is nothing to cancel (a stale button: the deployment already ended).
 */
export type PreparedCancel = { ok: true; view: types.ModalView; target: string } | { ok: false; text: string; stale: boolean };

/** `reason`: typed after the id in `/campaign cancel <id> <reason>`; it fills the modal's field, which the responder may still edit. */
export async function prepareCancel(deps: Pick<ListenerDeps, 'status'>, id: string, message: { channel: string | null; ts: string | null }, reason: string | null = null): Promise<PreparedCancel> {
  const preview = await previewCancel(deps.status, id);
  if (!preview.ok) return { ok: false, text: outcomeMrkdwn(preview.outcome), stale: preview.stale };
  const metadata = encodeMetadata({ target: preview.target, deploymentId: preview.firstDeploymentId, channel: message.channel, ts: message.ts });
  return { ok: true, target: preview.target, view: cancelModal(preview.report, metadata, reason) };
}
