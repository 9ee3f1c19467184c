import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Block } from '../../blocks/common.js';
import { campaignModal, noticeModal } from '../../blocks/modal.js';

/** Where a button was clicked, and how to answer the clicker only. */
export type ButtonArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

export function clickContext(body: BlockAction) {
  const container = body.container as { type?: string; channel_id?: string; message_ts?: string; view_id?: string } | undefined;
  const channel = container?.channel_id ?? body.channel?.id;
  const ts = container?.message_ts ?? body.message?.ts;
  const inModal = container?.type === 'view' && body.view?.type === 'modal';
  return { channel, ts, inModal };
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
