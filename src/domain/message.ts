import { mergeValues, renderHeader, renderText } from './merge.js';

/**
 * One recipient's message. The Message-ID and the X-Campaign-Guard-Delivery header are derived
 * from (deployment, seq) alone, so a provider's bounce or complaint can always be matched back to
 * its ledger row, and a message could never be sent under two identities.
 */
export const DELIVERY_HEADER = 'X-Campaign-Guard-Delivery';

export interface CampaignContent {
  fromAddress: string;
  subject: string;
  bodyText: string;
  fieldNames: string[];
}

export interface OutgoingMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId: string;
  headers: Record<string, string>;
}

export function deliveryTag(deploymentId: string, seq: number): string {
  return `${deploymentId}.${seq}`;
}

/** Parses a delivery tag or a Message-ID of ours back to (deployment, seq). */
export function parseDeliveryTag(text: string): { deploymentId: string; seq: number } | undefined {
  const match = /(dep_[0-9a-hjkmnp-tv-z]{10})\.(\d{1,9})/.exec(text);
  return match ? { deploymentId: match[1]!, seq: Number(match[2]) } : undefined;
}

function senderDomain(from: string): string {
  const address = /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from;
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase() || 'campaign-guard.local';
}

export function buildMessage(content: CampaignContent, delivery: { deploymentId: string; seq: number; email: string; fields: string[] }): OutgoingMessage {
  const values = mergeValues(content.fieldNames, delivery.fields, delivery.email);
  const tag = deliveryTag(delivery.deploymentId, delivery.seq);
  return {
    from: content.fromAddress,
    to: delivery.email,
    subject: renderHeader(content.subject, values),
    text: renderText(content.bodyText, values),
    messageId: `<cg.${tag}@${senderDomain(content.fromAddress)}>`,
    headers: { [DELIVERY_HEADER]: tag },
  };
}
