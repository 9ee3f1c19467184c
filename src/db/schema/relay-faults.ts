import { sql } from 'drizzle-orm';
import { check, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { RELAY_FAULT_OPEN, RELAY_FAULT_STATES } from '../../domain/relay-fault-states.js';
import { quotedValues } from '../sql-values.js';

/**
 * A fault of the SMTP relay as a whole that paused the sending deployments: one record (and one
 * Slack alert) per fault, open until someone resumes it. At most one is open: a worker that finds
 * one open adds the deployments it paused to it instead of raising another alert.
 */
export const relayFaults = pgTable(
  'relay_faults',
  {
    id: text('id').primaryKey(),
    /** The newest cause in words, e.g. "relay refused our login: 535 5.7.8 Authentication failed". */
    cause: text('cause').notNull(),
    state: text('state').notNull().default(RELAY_FAULT_OPEN),
    /** Every deployment this fault paused. */
    deploymentIds: text('deployment_ids').array().notNull().default(sql`'{}'::text[]`),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    resumedBy: text('resumed_by'),
    resumedAt: timestamp('resumed_at', { withTimezone: true }),
    slackChannel: text('slack_channel'),
    slackTs: text('slack_ts'),
  },
  (t) => [
    check('relay_faults_state_check', sql`${t.state} in (${sql.raw(quotedValues(RELAY_FAULT_STATES))})`),
    uniqueIndex('relay_faults_open_key').on(t.state).where(sql`${t.state} = ${sql.raw(quotedValues([RELAY_FAULT_OPEN]))}`),
  ],
);
