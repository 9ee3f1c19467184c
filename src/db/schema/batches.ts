import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { BATCH_STATUSES, STATUS } from '../../domain/lifecycle.js';
import { quotedValues } from '../sql-values.js';
import { deliveryCounters } from './counters.js';
import { deployments } from './deployments.js';

/** A slice of a deployment's audience (recipient seq range) with its own send time. */
export const batches = pgTable(
  'batches',
  {
    id: text('id').primaryKey(),
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    position: integer('position').notNull(),
    status: text('status').notNull(),
    sendAt: timestamp('send_at', { withTimezone: true }),
    /** The deployment generation whose send jobs this batch's trigger has queued (see resume). */
    triggeredGeneration: integer('triggered_generation').notNull().default(-1),
    firstSeq: integer('first_seq').notNull(),
    lastSeq: integer('last_seq').notNull(),
    ...deliveryCounters(),
    cancelledBy: text('cancelled_by'),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check(
      'batches_status_check',
      sql`${t.status} in (${sql.raw(quotedValues(BATCH_STATUSES))})`,
    ),
    unique('batches_deployment_position_key').on(t.deploymentId, t.position),
    index('batches_send_at_idx').on(t.sendAt).where(sql`${t.status} = ${sql.raw(quotedValues([STATUS.scheduled]))}`),
  ],
);
