import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import { DELIVERY, DELIVERY_STATUSES } from '../../domain/deliveries.js';
import { quotedValues } from '../sql-values.js';

/**
 * The per-recipient ledger: pending → claimed → sent | failed | bounced | unknown | cancelled.
 * Keyed by (deployment, seq) so a retried job can never create a second row for a recipient.
 */
export const deliveries = pgTable(
  'deliveries',
  {
    // No foreign key: only prefetch inserts rows, for a deployment it has locked, and a
    // per-row constraint check cost ~40% of prefetch time.
    deploymentId: text('deployment_id').notNull(),
    seq: integer('seq').notNull(),
    batchId: text('batch_id').notNull(),
    email: text('email').notNull(),
    /**
     * Merge-field values, in the order of campaigns.field_names, as the audience line stores them
     * (a JSON array, or "," and plain comma-separated values): the format of db/field-line.ts.
     */
    fields: text('fields').notNull(),
    status: text('status').notNull().default(DELIVERY.pending),
    attempts: smallint('attempts').notNull().default(0),
    claimedBy: text('claimed_by'),
    claimExpiresAt: timestamp('claim_expires_at', { withTimezone: true }),
    messageId: text('message_id'),
    smtpCode: smallint('smtp_code'),
    smtpReply: text('smtp_reply'),
    handedOverAt: timestamp('handed_over_at', { withTimezone: true }),
    settledAt: timestamp('settled_at', { withTimezone: true }),
    /** Set by the first complaint from a provider; a repeated complaint changes nothing. */
    complainedAt: timestamp('complained_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'deliveries_pkey', columns: [t.deploymentId, t.seq] }),
    check(
      'deliveries_status_check',
      sql`${t.status} in (${sql.raw(quotedValues(DELIVERY_STATUSES))})`,
    ),
    // Claiming needs no index of its own: a send job claims within a range of ~250 seqs, which
    // the primary key serves; one index fewer makes prefetch a third faster.
    // The lease sweeper and the lease heartbeat look only at claimed rows.
    index('deliveries_claimed_idx').on(t.claimedBy, t.claimExpiresAt).where(sql`${t.status} = ${sql.raw(quotedValues([DELIVERY.claimed]))}`),
  ],
);
