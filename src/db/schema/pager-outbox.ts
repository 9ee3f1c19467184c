import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { OUTBOX_STATUS, OUTBOX_STATUSES } from '../../domain/outbox-states.js';
import { PAGER_ACTIONS, PAGER_DESTINATIONS } from '../../domain/pager-events.js';
import { quotedValues } from '../sql-values.js';
import { alerts } from './alerts.js';

/**
 * Pager events (PagerDuty, the generic webhook) written in the same transaction as the alert
 * change they report, one row per destination, delivered by a worker like the Slack outbox: none
 * lost (committed with the change), none doubled (dedupe key per alert, destination and action),
 * in order per alert and destination.
 */
export const pagerOutbox = pgTable(
  'pager_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    alertId: text('alert_id')
      .notNull()
      .references(() => alerts.id),
    destination: text('destination').notNull(),
    action: text('action').notNull(),
    dedupeKey: text('dedupe_key').notNull().unique('pager_outbox_dedupe_key'),
    /** What the event says, fixed when it was written (summary, severity, links). */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status').notNull().default(OUTBOX_STATUS.pending),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [
    check('pager_outbox_destination_check', sql`${t.destination} in (${sql.raw(quotedValues(PAGER_DESTINATIONS))})`),
    check('pager_outbox_action_check', sql`${t.action} in (${sql.raw(quotedValues(PAGER_ACTIONS))})`),
    check('pager_outbox_status_check', sql`${t.status} in (${sql.raw(quotedValues(OUTBOX_STATUSES))})`),
    index('pager_outbox_due_idx').on(t.nextAttemptAt, t.id).where(sql`${t.status} = ${sql.raw(quotedValues([OUTBOX_STATUS.pending]))}`),
    index('pager_outbox_alert_idx').on(t.alertId, t.destination, t.id),
  ],
);
