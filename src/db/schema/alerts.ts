import { sql } from 'drizzle-orm';
import { check, doublePrecision, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { ALERT_STATE, ALERT_STATES } from '../../domain/alert-states.js';
import { quotedValues } from '../sql-values.js';
import { deployments } from './deployments.js';

/** One record per (deployment, metric) spike; escalation and resolution update it in place. */
export const alerts = pgTable(
  'alerts',
  {
    id: text('id').primaryKey(),
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    metric: text('metric').notNull(),
    severity: text('severity').notNull(),
    state: text('state').notNull().default(ALERT_STATE.open),
    rate: doublePrecision('rate').notNull(),
    sample: integer('sample').notNull(),
    threshold: doublePrecision('threshold').notNull(),
    /** Every metric's rates and samples when the alert last changed, for the message. */
    stats: jsonb('stats').$type<Record<string, unknown>>().notNull().default({}),
    topDomains: jsonb('top_domains').$type<{ domain: string; count: number }[]>().notNull().default([]),
    autoPaused: text('auto_paused'),
    slackChannel: text('slack_channel'),
    slackTs: text('slack_ts'),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull().defaultNow(),
    escalatedAt: timestamp('escalated_at', { withTimezone: true }),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /** Who said "I'm on it" (a Slack user id, or the actor of a cancel, pause or resume), and when. */
    acknowledgedBy: text('acknowledged_by'),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    /** A warning judged harmless for a while: no mention or escalation until then. */
    snoozedUntil: timestamp('snoozed_until', { withTimezone: true }),
    snoozedBy: text('snoozed_by'),
    /** When nobody had acted within ALERT_ESCALATE_AFTER_SECONDS and it was re-announced (and paged). */
    reannouncedAt: timestamp('reannounced_at', { withTimezone: true }),
  },
  (t) => [
    check('alerts_metric_check', sql`${t.metric} in ('bounce', 'error', 'complaint')`),
    check('alerts_severity_check', sql`${t.severity} in ('warning', 'critical')`),
    check('alerts_state_check', sql`${t.state} in (${sql.raw(quotedValues(ALERT_STATES))})`),
    uniqueIndex('alerts_open_key').on(t.deploymentId, t.metric).where(sql`${t.state} = ${sql.raw(quotedValues([ALERT_STATE.open]))}`),
    index('alerts_deployment_idx').on(t.deploymentId),
  ],
);
