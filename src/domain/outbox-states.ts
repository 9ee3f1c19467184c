/**
 * A Slack outbox row's life: pending until the notifier delivers it, gives up on it (failed), or
 * finds a newer edit of the same message that shows all it would (superseded).
 */
export const OUTBOX_STATUSES = ['pending', 'delivered', 'superseded', 'failed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];
export const OUTBOX_STATUS = Object.fromEntries(OUTBOX_STATUSES.map((s) => [s, s])) as { readonly [S in OutboxStatus]: S };
