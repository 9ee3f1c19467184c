import { integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Snapshots of a deployment's feedback counters, taken by the monitor about once a second: a
 * rolling-window rate is "now minus the snapshot a window ago", so no writer on the send path or
 * the webhook path pays for windows. Pruned once older than the window.
 */
export const deploymentSamples = pgTable(
  'deployment_samples',
  {
    deploymentId: text('deployment_id').notNull(),
    takenAt: timestamp('taken_at', { withTimezone: true }).notNull(),
    attempted: integer('attempted').notNull(),
    sent: integer('sent').notNull(),
    bounced: integer('bounced').notNull(),
    errors: integer('errors').notNull(),
    complaints: integer('complaints').notNull(),
  },
  (t) => [primaryKey({ name: 'deployment_samples_pkey', columns: [t.deploymentId, t.takenAt] })],
);
