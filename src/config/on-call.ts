import { z } from 'zod';
import type { PagerDestination } from '../domain/pager-events.js';
import { ConfigError } from '../lib/config-error.js';
import { blankToUndefined, integer, optionalMatching, urlWithProtocols } from './values.js';

/**
 * The on-call section: whom an alert mentions, when an alert nobody acted on is re-announced and
 * paged, the pagers (PagerDuty's Events API v2, a generic signed webhook), and the runbook and
 * dashboard links (URL templates with {campaign_id}, {deployment_id}, {alert_id}, {metric}).
 */
export interface OnCallConfig {
  /** The mention as Slack writes it (`<!subteam^S…>`, `<@U…>`, …), or undefined for none. */
  mention: string | undefined;
  /** The lowest severity that mentions: `warning` mentions every alert, `critical` only critical ones. */
  mentionMinSeverity: 'warning' | 'critical';
  /** An open alert nobody acknowledged or acted on is re-announced (and paged) after this long; 0 never. */
  escalateAfterSeconds: number;
  links: { runbook: string | undefined; dashboard: string | undefined };
  pagerDuty: { routingKey: string; eventsUrl: string } | undefined;
  webhook: { url: string; secret: string } | undefined;
  /** The pagers configured, in the order their events are written. */
  pagerDestinations: PagerDestination[];
}

export const LINK_PLACEHOLDERS = ['campaign_id', 'deployment_id', 'alert_id', 'metric'] as const;
export type LinkPlaceholder = (typeof LINK_PLACEHOLDERS)[number];

const MENTION_TOKEN = /^(<!subteam\^S[A-Z0-9]+(\|[^<>|]+)?>|<@[UW][A-Z0-9]+>|<!here>|<!channel>|S[A-Z0-9]{6,}|[UW][A-Z0-9]{6,}|@here|@channel)$/;
const MENTION_PROBLEM = 'must be Slack user group or user ids like S0123456789 or U0123456789 (or <!subteam^S0123456789>, <@U0123456789>, @here), separated by commas or spaces';

export const onCallSchema = {
  SLACK_ALERT_MENTION: z.preprocess(
    blankToUndefined,
    z
      .string()
      .refine((v) => v.split(/[\s,]+/).filter(Boolean).every((token) => MENTION_TOKEN.test(token)), MENTION_PROBLEM)
      .optional(),
  ),
  SLACK_ALERT_MENTION_SEVERITY: z.preprocess(
    blankToUndefined,
    z.enum(['warning', 'critical'], { message: 'must be warning (mention every alert) or critical (only critical ones)' }).optional(),
  ),
  ALERT_ESCALATE_AFTER_SECONDS: integer(0, 7 * 86_400, 900),
  ALERT_RUNBOOK_URL: urlTemplate(),
  ALERT_DASHBOARD_URL: urlTemplate(),
  PAGERDUTY_ROUTING_KEY: optionalMatching(/^[A-Za-z0-9]{32}$/, 'must be a PagerDuty Events API v2 integration key (32 letters and digits)'),
  PAGERDUTY_EVENTS_URL: urlWithProtocols(['http:', 'https:'], 'https://events.pagerduty.com/v2/enqueue'),
  ALERT_WEBHOOK_URL: urlWithProtocols(['http:', 'https:'], 'https://pager.example.com/hooks/campaign-guard'),
  ALERT_WEBHOOK_SECRET: optionalMatching(/^\S{32,256}$/, 'must be at least 32 characters without spaces'),
};

/** An http(s) URL template: only known placeholders, and a valid URL once they are filled in. */
function urlTemplate() {
  return z.preprocess(
    blankToUndefined,
    z
      .string()
      .superRefine((value, context) => {
        const unknown = [...value.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]!).find((name) => !(LINK_PLACEHOLDERS as readonly string[]).includes(name));
        if (unknown !== undefined) {
          context.addIssue({ code: 'custom', message: `has an unknown placeholder {${unknown}}: use ${LINK_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}` });
          return;
        }
        if (/[{}]/.test(value.replace(/\{[^{}]*\}/g, ''))) {
          context.addIssue({ code: 'custom', message: 'has an unmatched { or }: placeholders are written like {deployment_id}' });
          return;
        }
        try {
          const url = new URL(fillLinkTemplate(value, { campaign_id: 'cmp_x', deployment_id: 'dep_x', alert_id: 'alert_x', metric: 'bounce' }));
          if (url.protocol === 'http:' || url.protocol === 'https:') return;
        } catch {
          // reported below
        }
        context.addIssue({ code: 'custom', message: 'must be an http(s) URL like https://grafana.example.com/d/sends?var-deployment={deployment_id}' });
      })
      .optional(),
  );
}

/** The template with each placeholder replaced by its value, URL-encoded. */
export function fillLinkTemplate(template: string, values: Record<LinkPlaceholder, string>): string {
  return template.replace(/\{(campaign_id|deployment_id|alert_id|metric)\}/g, (_, name: LinkPlaceholder) => encodeURIComponent(values[name]));
}

/** `S0123` → `<!subteam^S0123>`, `U0123` → `<@U0123>`, `@here` → `<!here>`; Slack's own forms kept. */
function mentionText(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return value
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((token) => {
      if (token.startsWith('<')) return token;
      if (token === '@here' || token === '@channel') return `<!${token.slice(1)}>`;
      return token.startsWith('S') ? `<!subteam^${token}>` : `<@${token}>`;
    })
    .join(' ');
}

export function onCallConfig(e: {
  SLACK_ALERT_MENTION?: string | undefined;
  SLACK_ALERT_MENTION_SEVERITY?: 'warning' | 'critical' | undefined;
  ALERT_ESCALATE_AFTER_SECONDS: number;
  ALERT_RUNBOOK_URL?: string | undefined;
  ALERT_DASHBOARD_URL?: string | undefined;
  PAGERDUTY_ROUTING_KEY?: string | undefined;
  PAGERDUTY_EVENTS_URL?: string | undefined;
  ALERT_WEBHOOK_URL?: string | undefined;
  ALERT_WEBHOOK_SECRET?: string | undefined;
}): OnCallConfig {
  if (e.PAGERDUTY_EVENTS_URL && !e.PAGERDUTY_ROUTING_KEY) throw new ConfigError('PAGERDUTY_ROUTING_KEY', 'must be set when PAGERDUTY_EVENTS_URL is');
  if (e.ALERT_WEBHOOK_URL && !e.ALERT_WEBHOOK_SECRET) throw new ConfigError('ALERT_WEBHOOK_SECRET', 'must be set when ALERT_WEBHOOK_URL is (receivers verify the signature with it)');
  if (e.ALERT_WEBHOOK_SECRET && !e.ALERT_WEBHOOK_URL) throw new ConfigError('ALERT_WEBHOOK_URL', 'must be set when ALERT_WEBHOOK_SECRET is');
  const pagerDuty = e.PAGERDUTY_ROUTING_KEY ? { routingKey: e.PAGERDUTY_ROUTING_KEY, eventsUrl: e.PAGERDUTY_EVENTS_URL ?? 'https://events.pagerduty.com/v2/enqueue' } : undefined;
  const webhook = e.ALERT_WEBHOOK_URL && e.ALERT_WEBHOOK_SECRET ? { url: e.ALERT_WEBHOOK_URL, secret: e.ALERT_WEBHOOK_SECRET } : undefined;
  return {
    mention: mentionText(e.SLACK_ALERT_MENTION),
    mentionMinSeverity: e.SLACK_ALERT_MENTION_SEVERITY ?? 'warning',
    escalateAfterSeconds: e.ALERT_ESCALATE_AFTER_SECONDS,
    links: { runbook: e.ALERT_RUNBOOK_URL, dashboard: e.ALERT_DASHBOARD_URL },
    pagerDuty,
    webhook,
    pagerDestinations: [...(pagerDuty ? (['pagerduty'] as const) : []), ...(webhook ? (['webhook'] as const) : [])],
  };
}
