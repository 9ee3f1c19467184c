/**
 * What Campaign Guard tells a pager about an alert (PagerDuty's Events API v2, or a generic
 * signed webhook): an alert nobody acknowledged in time is triggered there, acknowledged there
 * when a responder acknowledges (or acts on) it in Slack, and resolved there when the alert
 * resolves or its deployment ends. Each destination gets each event at most once, in this order;
 * an acknowledge or resolve is only sent where a trigger was.
 */
export const PAGER_ACTIONS = ['trigger', 'acknowledge', 'resolve'] as const;
export type PagerAction = (typeof PAGER_ACTIONS)[number];
export const PAGER_ACTION = Object.fromEntries(PAGER_ACTIONS.map((a) => [a, a])) as { readonly [A in PagerAction]: A };

export const PAGER_DESTINATIONS = ['pagerduty', 'webhook'] as const;
export type PagerDestination = (typeof PAGER_DESTINATIONS)[number];

/** An alert's severity as PagerDuty's `payload.severity` (critical, error, warning or info). */
export function pagerSeverity(severity: 'warning' | 'critical'): 'critical' | 'warning' {
  return severity === 'critical' ? 'critical' : 'warning';
}
