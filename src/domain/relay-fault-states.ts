/**
 * A relay fault's life: open while the deployments it paused wait for the relay, resumed once a
 * responder resumed them (or nothing it paused was still paused by it). At most one is open.
 */
export const RELAY_FAULT_STATES = ['open', 'resumed'] as const;
export type RelayFaultState = (typeof RELAY_FAULT_STATES)[number];
export const RELAY_FAULT_OPEN: RelayFaultState = 'open';
export const RELAY_FAULT_RESUMED: RelayFaultState = 'resumed';
