import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { OUTBOX_STATUS, OUTBOX_STATUSES } from '../../domain/outbox-states.js';
import { quotedValues } from '../sql-values.js';

/**
 * Slack messages written in the same transaction as the change they report, delivered by a
 * worker: none lost (committed with the change), none doubled (dedupe key, stored ts). An edit
 * that a newer edit of the same message will make anyway is `superseded`, not sent.
 */
export const slackOutbox = pgTable(
  'slack_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    dedupeKey: text('dedupe_key').notNull().unique('slack_outbox_dedupe_key'),
    alertId: text('alert_id'),
    channel: text('channel'),
    threadTs: text('thread_ts'),
    userId: text('user_id'),
    payload: jsonb('payload').notNull(),
    status: text('status').notNull().default(OUTBOX_STATUS.pending),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastError: text('last_error'),
    deliveredTs: text('delivered_ts'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [
    check('slack_outbox_kind_check', sql`${t.kind} in ('post', 'update', 'thread_reply', 'ephemeral')`),
    check('slack_outbox_status_check', sql`${t.status} in (${sql.raw(quotedValues(OUTBOX_STATUSES))})`),
    index('slack_outbox_due_idx').on(t.nextAttemptAt, t.id).where(sql`${t.status} = ${sql.raw(quotedValues([OUTBOX_STATUS.pending]))}`),
  ],
);
