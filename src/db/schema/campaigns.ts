import { sql } from 'drizzle-orm';
import { check, doublePrecision, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { CAMPAIGN_STATUSES } from '../../domain/lifecycle.js';
import { DEFAULT_SEND_WEIGHT } from '../../domain/send-weight.js';
import { quotedValues } from '../sql-values.js';

export const campaigns = pgTable(
  'campaigns',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    kind: text('kind', { enum: ['single', 'multi'] }).notNull(),
    status: text('status').notNull(),
    subject: text('subject').notNull(),
    fromAddress: text('from_address').notNull(),
    bodyText: text('body_text').notNull(),
    /** Merge-field names from the CSV header, in the order audience and ledger rows keep values. */
    fieldNames: text('field_names').array().notNull().default([]),
    sendAt: timestamp('send_at', { withTimezone: true }),
    lockedBy: text('locked_by'),
    lockedAt: timestamp('locked_at', { withTimezone: true }),
    cancelledBy: text('cancelled_by'),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
    cancelReason: text('cancel_reason'),
    /** Per-campaign overrides of the alert policy defaults from configuration. */
    alertPolicy: jsonb('alert_policy'),
    /** Its deployments' share of lanes and rate when several send at once (domain/send-weight). */
    sendWeight: doublePrecision('send_weight').notNull().default(DEFAULT_SEND_WEIGHT),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('campaigns_kind_check', sql`${t.kind} in ('single', 'multi')`),
    check(
      'campaigns_status_check',
      sql`${t.status} in (${sql.raw(quotedValues(CAMPAIGN_STATUSES))})`,
    ),
    check('campaigns_send_weight_check', sql`${t.sendWeight} > 0`),
    index('campaigns_name_idx').on(sql`lower(${t.name})`),
  ],
);
