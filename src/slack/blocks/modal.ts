import type { types } from '@slack/bolt';
import { countsAtCommit, addCounts } from '../../domain/cancel-outcome.js';
import { ACTIVE_DEPLOYMENT_STATUSES } from '../../domain/lifecycle.js';
import type { StatusReport } from '../../services/status.js';
import { CANCEL_CALLBACK } from '../button-value.js';
import { actorMention, clip, count, escape, plain, slackDate } from '../format.js';
import { context, section, SLACK_LIMITS, type Block } from './common.js';
import { deploymentLine } from './status.js';

/**
 * The confirmation modal (DESIGN §5): everything that will stop, sent so far, in flight, will
 * never be sent, the lock-override warning, the irreversibility, an optional reason, and the typed
 * CANCEL that confirms it.
 */
export const REASON_BLOCK = 'reason';
export const REASON_ACTION = 'reason_input';
/** The reason is kept to one line of this many characters (the service cuts a longer one). */
export const REASON_MAX = 500;
/**
 * Cancel cannot be undone, so the responder types a word before it happens: CANCEL (in any case),
 * the same for every campaign, so it is quick in an incident and needs no name copied exactly.
 */
export const CONFIRM_BLOCK = 'confirm';
export const CONFIRM_ACTION = 'confirm_input';
export const CONFIRM_WORD = 'CANCEL';

export function confirmationMatches(typed: string | null | undefined): boolean {
  return (typed ?? '').normalize('NFKC').trim().toUpperCase() === CONFIRM_WORD;
}

export function cancelModal(report: StatusReport, privateMetadata: string, initialReason: string | null = null): types.ModalView {
  const campaign = report.type === 'campaign' ? report : report.campaign;
  const all = report.type === 'campaign' ? report.deployments : [report.deployment];
  const stopping = all.filter((d) => (ACTIVE_DEPLOYMENT_STATUSES as readonly string[]).includes(d.status));
  const totals = addCounts(stopping.map((d) => countsAtCommit(d.counts)));
  const what = campaign.kind === 'multi' ? `campaign *${escape(campaign.name)}* (\`${campaign.id}\`) and every one of its deployments` : `*${escape(campaign.name)}* (\`${all[0]!.id}\`)`;
  const blocks: Block[] = [
    section(clip(`This stops ${what}:`), 'summary'),
    ...stopping.slice(0, 20).map((d) => section(clip(`• ${deploymentLine(campaign.name, d)}`))),
    ...(stopping.length > 20 ? [context(`…and ${stopping.length - 20} more deployments`)] : []),
    section(`*Sent so far:* ${count(totals.contacted)}\n*In flight (cannot be recalled):* ${count(totals.inFlight)}\n*Will never be sent:* ${count(totals.neverSent)}`, 'counts'),
  ];
  if (campaign.lockedBy) {
    blocks.push(section(`:lock: *Edit lock:* ${actorMention(campaign.lockedBy)} is editing this campaign${campaign.lockedAt ? ` (since ${slackDate(campaign.lockedAt)})` : ''}. Cancelling overrides the lock, and the override is recorded.`, 'lock'));
  }
  blocks.push(section(':warning: *This cannot be undone; the campaign cannot be restarted.* Use Pause if you may want to continue.', 'irreversible'));
  blocks.push({
    type: 'input',
    block_id: REASON_BLOCK,
    optional: true,
    label: { type: 'plain_text', text: 'Reason (optional)' },
    hint: { type: 'plain_text', text: `Kept as one line of at most ${REASON_MAX} characters, in the audit log and the alert's thread.` },
    element: { type: 'plain_text_input', action_id: REASON_ACTION, multiline: true, max_length: REASON_MAX, ...(initialReason ? { initial_value: plain(initialReason, REASON_MAX) } : {}) },
  });
  blocks.push({
    type: 'input',
    block_id: CONFIRM_BLOCK,
    label: { type: 'plain_text', text: `Type ${CONFIRM_WORD} to confirm` },
    element: { type: 'plain_text_input', action_id: CONFIRM_ACTION, max_length: 20, placeholder: { type: 'plain_text', text: CONFIRM_WORD } },
  });
  return {
    type: 'modal',
    callback_id: CANCEL_CALLBACK,
    title: { type: 'plain_text', text: campaign.kind === 'multi' ? 'Cancel campaign?' : 'Cancel deployment?' },
    submit: { type: 'plain_text', text: 'Cancel it' },
    close: { type: 'plain_text', text: 'Keep running' },
    private_metadata: privateMetadata,
    blocks,
  };
}

/** A modal that only says something (App Home has no channel for an ephemeral message). */
export function noticeModal(title: string, text: string): types.ModalView {
  return { type: 'modal', title: { type: 'plain_text', text: plain(title, 24) }, close: { type: 'plain_text', text: 'Close' }, blocks: [section(clip(text))] };
}

export function campaignModal(title: string, blocks: Block[]): types.ModalView {
  return { type: 'modal', title: { type: 'plain_text', text: plain(title, 24) }, close: { type: 'plain_text', text: 'Close' }, blocks: blocks.slice(0, SLACK_LIMITS.viewBlocks) };
}
