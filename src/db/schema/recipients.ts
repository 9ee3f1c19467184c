import { integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { deployments } from './deployments.js';

/**
 * The audience: per-deployment recipients as imported. `seq` is the recipient's ordinal in its
 * deployment (1..n), which batches slice into ranges and the ledger reuses as its key.
 */
export const recipients = pgTable(
  'recipients',
  {
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    seq: integer('seq').notNull(),
    email: text('email').notNull(),
    /** Other CSV columns, used as merge fields ({{first_name}}). */
    fields: jsonb('fields').$type<Record<string, string>>().notNull().default({}),
    lineNo: integer('line_no').notNull(),
  },
  (t) => [primaryKey({ name: 'recipients_pkey', columns: [t.deploymentId, t.seq] })],
);
