import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { ACTIVE_DEPLOYMENT_STATUSES, DEPLOYMENT_STATUSES } from '../../domain/lifecycle.js';
import { quotedValues } from '../sql-values.js';
import { campaigns } from './campaigns.js';
import { deliveryCounters } from './counters.js';

export const deployments = pgTable(
  'deployments',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id),
    position: integer('position').notNull(),
    name: text('name').notNull(),
    status: text('status').notNull(),
    sendAt: timestamp('send_at', { withTimezone: true }),
    /** Gap between batch send times; kept so a draft can be scheduled later. */
    batchIntervalMs: integer('batch_interval_ms').notNull().default(0),
    /** Bumped by every resume, so the jobs a resume enqueues get ids of their own. */
    generation: integer('generation').notNull().default(0),
    /** How many ledger rows prefetch has materialised so far (resumable in bounded chunks). */
    prefetchedCount: integer('prefetched_count').notNull().default(0),
    /** How many audience chunks those are: where the next prefetch statement starts. */
    prefetchedChunks: integer('prefetched_chunks').notNull().default(0),
    ...deliveryCounters(),
    /** Recipients who complained (provider feedback), each counted once. */
    complaintCount: integer('complaint_count').notNull().default(0),
    /** Last provider event for this deployment: the monitor keeps watching ended deployments that still get feedback. */
    feedbackAt: timestamp('feedback_at', { withTimezone: true }),
    pausedBy: text('paused_by'),
    pausedAt: timestamp('paused_at', { withTimezone: true }),
    cancelledBy: text('cancelled_by'),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
    cancelReason: text('cancel_reason'),
    /** Set once a cancelled deployment's pending ledger rows are all marked `cancelled`. */
    ledgerClosed: boolean('ledger_closed').notNull().default(false),
    startedAt: timestamp('started_at', { withTimezone: true }),
    /** When a worker last handed one of its messages to the transport (its last claim): status tells a waiting deployment from a sending one. */
    lastHandOffAt: timestamp('last_hand_off_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check(
      'deployments_status_check',
      sql`${t.status} in (${sql.raw(quotedValues(DEPLOYMENT_STATUSES))})`,
    ),
    index('deployments_campaign_idx').on(t.campaignId, t.position),
    index('deployments_name_idx').on(sql`lower(${t.name})`),
    // The activity monitor lists only live deployments; this stays tiny however many have ended.
    index('deployments_active_idx')
      .on(t.status, t.sendAt)
      .where(sql`${t.status} in (${sql.raw(quotedValues(ACTIVE_DEPLOYMENT_STATUSES))})`),
    // Ended deployments still get provider feedback (late bounces, complaints); the monitor finds them here.
    index('deployments_feedback_idx').on(t.feedbackAt).where(sql`${t.feedbackAt} is not null`),
  ],
);
