import { SIGNATURE_HEADER, signGenericBody, TIMESTAMP_HEADER } from '../lib/signed-webhook.js';
import type { PagerEvent } from './event.js';
import { postJson, type SendOutcome } from './http.js';

/**
 * The generic alert webhook (ALERT_WEBHOOK_URL): the pager events as one JSON object per POST,
 * signed like our inbound generic webhook (README, "Paging"), so any pager or chat tool can take
 * them. `id` is the same on every retry: a receiver dedupes on it.
 */
export function webhookBody(event: PagerEvent): Record<string, unknown> {
  return {
    id: event.id,
    action: event.action,
    occurred_at: event.occurredAt.toISOString(),
    summary: event.summary,
    alert: {
      id: event.alertId,
      metric: event.metric,
      severity: event.severity,
      rate: event.rate,
      threshold: event.threshold,
      state: event.alertState,
      opened_at: event.openedAt.toISOString(),
    },
    campaign: event.campaign,
    deployment: event.deployment,
    links: event.links,
  };
}

export function createWebhookSender(options: { url: string; secret: string; timeoutMs: number; now?: () => Date }) {
  const now = options.now ?? (() => new Date());
  return {
    destination: 'webhook' as const,
    send(event: PagerEvent): Promise<SendOutcome> {
      const body = JSON.stringify(webhookBody(event));
      // Signed at each attempt: a retry carries a fresh timestamp, inside the receiver's tolerance.
      const timestamp = String(Math.floor(now().getTime() / 1000));
      return postJson(options.url, body, { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signGenericBody(options.secret, timestamp, body) }, options.timeoutMs);
    },
  };
}
