import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { interactionIdentity, type Place } from '../../access.js';
import type { Block } from '../../blocks/common.js';
import { campaignModal, noticeModal } from '../../blocks/modal.js';
import { visible } from '../../format.js';
import type { recentClicks } from '../repeats.js';
import type { ListenerDeps } from '../support.js';

/** Where a button was clicked, and how to answer the clicker only. */
export type ButtonArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

export function clickContext(body: BlockAction) {
  const container = body.container as { type?: string; channel_id?: string; message_ts?: string; view_id?: string } | undefined;
  const channel = container?.channel_id ?? body.channel?.id;
  const ts = container?.message_ts ?? body.message?.ts;
  const inModal = container?.type === 'view' && body.view?.type === 'modal';
  // A click in App Home or in one of our modals has no channel: identity and role gate it alone.
  const place: Place = channel ? { channel, name: body.channel?.name ?? null } : { surface: body.view?.type === 'home' ? 'home' : 'modal' };
  return { channel, ts, inModal, place };
}

/**
 * A button click, acknowledged at once: where it was clicked and the button's value, or
 * undefined when it repeats the same user's click of the same button on the same message
 * (`clicks`, a double click), which is a no-op.
 */
export async function firstClick(args: ButtonArgs, clicks: ReturnType<typeof recentClicks>, action: string) {
  await args.ack();
  const { body } = args;
  const where = clickContext(body);
  const value = (args.action as { value?: unknown }).value;
  if (clicks.repeated(`${body.user.id}:${action}:${String(value)}:${where.channel ?? body.view?.id ?? ''}:${where.ts ?? ''}`)) return undefined;
  return { ...where, value };
}

/** An ephemeral message in the channel; from App Home or a modal (no channel) a small modal instead. */
export async function replyToClicker(args: ButtonArgs, title: string, text: string, blocks?: Block[]): Promise<void> {
  const { body, client } = args;
  const { channel, inModal } = clickContext(body);
  if (channel) {
    await client.chat.postEphemeral({ channel, user: body.user.id, text, ...(blocks ? { blocks } : {}) });
    return;
  }
  const view = blocks ? campaignModal(title, blocks) : noticeModal(title, text);
  if (inModal) await client.views.push({ trigger_id: body.trigger_id, view });
  else await client.views.open({ trigger_id: body.trigger_id, view });
}

/**
 * A button whose value we do not understand: one of another version (an old message, a rolling
 * deploy) or a tampered one. Nothing is looked up from it; the refusal is explained and audited.
 */
export async function refuseUnreadableButton(args: ButtonArgs, deps: Pick<ListenerDeps, 'gate'>, action: string, title: string, hint: string): Promise<void> {
  const raw = (args.action as { value?: unknown }).value;
  const shown = typeof raw === 'string' ? visible(raw, 80) : typeof raw;
  // Answered first: the clicker is told even if the audit write is slow.
  await replyToClicker(args, title, `This button is from another version of Campaign Guard, or was altered, so nothing was done. ${hint}`);
  await deps.gate.recordRefusal(interactionIdentity(args.body), action, null, `button value not understood: ${shown}`);
}
