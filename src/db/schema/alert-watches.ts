import { sql } from 'drizzle-orm';
import { check, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * What the monitor last concluded per (deployment, metric), and a level it has seen but not yet
 * for long enough (the sustain period). Kept in Postgres so any worker can take over the monitor
 * without forgetting a breach that is half-way through its sustain period.
 */
export const alertWatches = pgTable(
  'alert_watches',
  {
    deploymentId: text('deployment_id').notNull(),
    metric: text('metric').notNull(),
    level: text('level').notNull().default('ok'),
    candidate: text('candidate'),
    candidateSince: timestamp('candidate_since', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'alert_watches_pkey', columns: [t.deploymentId, t.metric] }),
    check('alert_watches_level_check', sql`${t.level} in ('ok', 'warning', 'critical')`),
    check('alert_watches_candidate_check', sql`${t.candidate} is null or ${t.candidate} in ('ok', 'warning', 'critical')`),
  ],
);
