import type { ControlOutcome } from '../../domain/cancel-outcome.js';
import { actorMention, clip, count, escape } from '../format.js';
import type { RenderedMessage } from './alert.js';
import { section } from './common.js';
import { outcomeMrkdwn } from './outcome.js';

/** The two thread replies of a cancel: the irreversible confirmation, then the settled counts. */
export interface CancelConfirmationPayload {
  type: 'cancel_confirmation';
  target: string;
  actor: string;
  reason?: string | null;
  campaignName?: string;
  outcome?: ControlOutcome;
  text?: string;
}

export interface CancelSettledPayload {
  type: 'cancel_settled';
  deploymentId: string;
  sent: number;
  bounced: number;
  failed: number;
  unknown: number;
  neverSent: number;
  total: number;
}

export function renderCancelConfirmation(p: CancelConfirmationPayload): RenderedMessage {
  const outcome = p.outcome ? outcomeMrkdwn({ ...p.outcome, ...('at' in p.outcome && p.outcome.at ? { at: new Date(p.outcome.at) } : {}) } as ControlOutcome) : escape(p.text ?? `Cancelled ${p.target}.`);
  const name = p.campaignName ? `*${escape(p.campaignName)}*: ` : '';
  const text = `:no_entry: ${name}${outcome} Requested by ${actorMention(p.actor)}.${p.reason ? ` Reason: ${escape(p.reason)}` : ''}`;
  return { text: clip(text, 3000), blocks: [section(clip(text), 'cancel_confirmation')] };
}

export function renderCancelSettled(p: CancelSettledPayload): RenderedMessage {
  const text =
    `:white_check_mark: Final counts for \`${escape(String(p.deploymentId))}\` now that nothing is in flight: ` +
    `${count(p.sent)} sent, ${count(p.bounced)} bounced, ${count(p.failed)} failed, ${count(p.unknown)} unknown; ` +
    `${count(p.neverSent)} of ${count(p.total)} were never sent.`;
  return { text, blocks: [section(text, 'cancel_settled')] };
}
