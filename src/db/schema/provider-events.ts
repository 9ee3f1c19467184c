import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';

/** Delivery feedback from providers and SMTP, deduplicated by (provider, event id). */
export const providerEvents = pgTable(
  'provider_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    provider: text('provider').notNull(),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    subtype: text('subtype'),
    deploymentId: text('deployment_id'),
    seq: integer('seq'),
    messageId: text('message_id'),
    recipient: text('recipient'),
    /** counted | orphan (no matching send yet) | quarantined (unparseable) | ignored */
    disposition: text('disposition').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    payload: jsonb('payload'),
  },
  (t) => [
    unique('provider_events_provider_event_key').on(t.provider, t.eventId),
    index('provider_events_deployment_idx').on(t.deploymentId, t.type),
    index('provider_events_orphan_idx').on(t.messageId).where(sql`${t.disposition} = 'orphan'`),
  ],
);
