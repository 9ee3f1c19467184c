import type { PagerEvent } from './event.js';
import { postJson, type SendOutcome } from './http.js';
import { pagerSeverity } from '../domain/pager-events.js';

/**
 * PagerDuty's Events API v2 (POST /v2/enqueue): the alert's id is the dedup_key, so the trigger
 * opens one incident per alert and its acknowledge and resolve find it. Only a trigger carries a
 * payload and links (PagerDuty ignores them on the other actions). Answers: 202 accepted; 400
 * `{"status":"invalid event","message":…,"errors":[…]}` is never retried; 429 (rate limited) and
 * 5xx are.
 */
export function pagerDutyBody(event: PagerEvent, routingKey: string): Record<string, unknown> {
  const body: Record<string, unknown> = { routing_key: routingKey, event_action: event.action, dedup_key: event.alertId };
  if (event.action !== 'trigger') return body;
  return {
    ...body,
    payload: {
      summary: event.summary,
      source: `campaign-guard/${event.deployment.id}`,
      severity: pagerSeverity(event.severity),
      timestamp: event.openedAt.toISOString(),
      component: event.deployment.name,
      group: event.campaign.name,
      class: `${event.metric} rate`,
      custom_details: {
        metric: event.metric,
        rate: event.rate,
        threshold: event.threshold,
        severity: event.severity,
        campaign_id: event.campaign.id,
        campaign: event.campaign.name,
        deployment_id: event.deployment.id,
        deployment: event.deployment.name,
        alert_id: event.alertId,
        opened_at: event.openedAt.toISOString(),
      },
    },
    client: 'Campaign Guard',
    ...(event.links[0] ? { client_url: event.links[0].href } : {}),
    links: event.links,
  };
}

/** PagerDuty's own words for a refused event (`invalid event: Event object is invalid (…)`). */
function describeRefusal(status: number, text: string): string {
  try {
    const answer = JSON.parse(text) as { status?: unknown; message?: unknown; errors?: unknown };
    const errors = Array.isArray(answer.errors) ? ` (${answer.errors.map(String).join('; ')})` : '';
    return `HTTP ${status} ${String(answer.status ?? '')}: ${String(answer.message ?? '')}${errors}`.slice(0, 500);
  } catch {
    return `HTTP ${status}${text.trim() ? `: ${text.trim().slice(0, 300)}` : ''}`;
  }
}

export function createPagerDutySender(options: { routingKey: string; eventsUrl: string; timeoutMs: number }) {
  return {
    destination: 'pagerduty' as const,
    send(event: PagerEvent): Promise<SendOutcome> {
      return postJson(options.eventsUrl, JSON.stringify(pagerDutyBody(event, options.routingKey)), {}, options.timeoutMs, describeRefusal);
    },
  };
}
