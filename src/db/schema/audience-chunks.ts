import { integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { deployments } from './deployments.js';

/**
 * The audience of a deployment as imported, in chunks of CHUNK_SIZE consecutive recipients
 * (seq first_seq … first_seq + row_count - 1). Written once by the import, read once by prefetch,
 * which expands a chunk into per-recipient ledger rows with set-based SQL
 * (`string_to_table(emails, E'\n')`). Newline-separated text keeps a 100-recipient chunk inline in
 * one heap tuple (toast_tuple_target is raised in migration 0001): a row and an index entry per
 * recipient, or arrays and JSON parsed on the way in, made the import several times slower than
 * a plain COPY of the same file.
 */
export const audienceChunks = pgTable(
  'audience_chunks',
  {
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    chunkNo: integer('chunk_no').notNull(),
    firstSeq: integer('first_seq').notNull(),
    rowCount: integer('row_count').notNull(),
    /** Validated addresses, one per line. */
    emails: text('emails').notNull(),
    /** One JSON array of merge-field values per line (order of campaigns.field_names). */
    fields: text('fields').notNull(),
  },
  (t) => [primaryKey({ name: 'audience_chunks_pkey', columns: [t.deploymentId, t.chunkNo] })],
);
