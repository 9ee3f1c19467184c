import { sql } from 'drizzle-orm';
import { check, index, integer, json, pgTable, primaryKey, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import { deployments } from './deployments.js';

/**
 * The per-recipient ledger: pending → claimed → sent | failed | bounced | unknown | cancelled.
 * Keyed by (deployment, seq) so a retried job can never create a second row for a recipient.
 */
export const deliveries = pgTable(
  'deliveries',
  {
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    seq: integer('seq').notNull(),
    batchId: text('batch_id').notNull(),
    email: text('email').notNull(),
    /** Merge-field values, in the order of campaigns.field_names. */
    fields: json('fields').$type<string[]>().notNull(),
    status: text('status').notNull().default('pending'),
    attempts: smallint('attempts').notNull().default(0),
    claimedBy: text('claimed_by'),
    claimExpiresAt: timestamp('claim_expires_at', { withTimezone: true }),
    messageId: text('message_id'),
    smtpCode: smallint('smtp_code'),
    smtpReply: text('smtp_reply'),
    handedOverAt: timestamp('handed_over_at', { withTimezone: true }),
    settledAt: timestamp('settled_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'deliveries_pkey', columns: [t.deploymentId, t.seq] }),
    check(
      'deliveries_status_check',
      sql`${t.status} in ('pending', 'claimed', 'sent', 'failed', 'bounced', 'unknown', 'cancelled')`,
    ),
    // Claiming: the next pending rows of one batch, in order, without scanning settled ones.
    index('deliveries_pending_idx').on(t.deploymentId, t.batchId, t.seq).where(sql`${t.status} = 'pending'`),
    // The lease sweeper and the lease heartbeat look only at claimed rows.
    index('deliveries_claimed_idx').on(t.claimedBy, t.claimExpiresAt).where(sql`${t.status} = 'claimed'`),
  ],
);
