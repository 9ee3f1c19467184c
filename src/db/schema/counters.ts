import { integer } from 'drizzle-orm/pg-core';

/**
 * Books kept on deployment and batch rows, updated per sub-batch by the send pipeline, so a
 * status answer never has to count a million ledger rows. `pending` is derived from them.
 */
export const deliveryCounters = () => ({
  totalCount: integer('total_count').notNull().default(0),
  inFlightCount: integer('in_flight_count').notNull().default(0),
  sentCount: integer('sent_count').notNull().default(0),
  bouncedCount: integer('bounced_count').notNull().default(0),
  failedCount: integer('failed_count').notNull().default(0),
  unknownCount: integer('unknown_count').notNull().default(0),
  cancelledCount: integer('cancelled_count').notNull().default(0),
});
