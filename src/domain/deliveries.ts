/**
 * A recipient's row in the ledger: pending → claimed → sent | bounced | failed | unknown, or
 * cancelled when it will never be sent. Its statuses, the outcomes a send settles a row with, and
 * each status by name for the SQL that writes them.
 */
export const DELIVERY_STATUSES = ['pending', 'claimed', 'sent', 'failed', 'bounced', 'unknown', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What a hand-off to the relay ends as; `unknown`: the message may or may not have left. */
export const SETTLED_DELIVERY_STATUSES = ['sent', 'bounced', 'failed', 'unknown'] as const satisfies readonly DeliveryStatus[];
export type SettledDeliveryStatus = (typeof SETTLED_DELIVERY_STATUSES)[number];

export const DELIVERY = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, s])) as { readonly [S in DeliveryStatus]: S };
