import type { types } from '@slack/bolt';
import type { DeliveryCounts } from '../../domain/counts.js';
import { count, percent } from '../format.js';

export type Block = types.KnownBlock;

/**
 * Slack's limits on what we send: blocks in a message (chat.postMessage, postEphemeral, an
 * ephemeral command answer) and in a view (modal, Home tab), and characters in a section's text.
 * Slack refuses the whole message or view over any of them, so renderers stay within.
 */
export const SLACK_LIMITS = { messageBlocks: 50, viewBlocks: 100, text: 3000 } as const;

export const section = (text: string, blockId?: string): Block => ({ type: 'section', ...(blockId ? { block_id: blockId } : {}), text: { type: 'mrkdwn', text } });
export const context = (text: string): Block => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });
export const divider = (): Block => ({ type: 'divider' });

export function button(text: string, actionId: string, value: string, style?: 'danger' | 'primary'): types.Button {
  return { type: 'button', text: { type: 'plain_text', text, emoji: true }, action_id: actionId, value, ...(style ? { style } : {}) };
}

/** Rates from the books: bounces and errors over what was handed over and answered. */
export function bookRates(c: DeliveryCounts) {
  const answered = c.sent + c.bounced + c.failed + c.unknown;
  return {
    sample: answered,
    bounce: answered ? c.bounced / answered : null,
    error: answered ? c.failed / answered : null,
  };
}

export function progressLine(c: DeliveryCounts): string {
  const answered = c.sent + c.bounced + c.failed + c.unknown;
  return `${count(answered)} / ${count(c.total)} sent${c.inFlight ? ` · ${count(c.inFlight)} in flight` : ''}${c.cancelled ? ` · ${count(c.cancelled)} never sent` : ''}`;
}

export function ratesLine(c: DeliveryCounts): string {
  const r = bookRates(c);
  return r.sample ? `bounce ${percent(r.bounce)} · errors ${percent(r.error)} (of ${count(r.sample)})` : 'no answers yet';
}
