/**
 * An alert is open until its rate is back below the resolve line, then resolved; at most one is
 * open per deployment and metric. An open alert, or one resolved within RECENT_ALERT_HOURS, is
 * "recent": a change of its deployment edits its message and replies in its thread.
 */
import type { DeploymentStatus } from './lifecycle.js';

export const ALERT_STATES = ['open', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];
export const ALERT_STATE = Object.fromEntries(ALERT_STATES.map((s) => [s, s])) as { readonly [S in AlertState]: S };

/** How long after it resolved (or opened) an alert's message still follows its deployment. */
export const RECENT_ALERT_HOURS = 24;

/** A deployment in these statuses is watched whatever it heard lately; an ended one only while feedback comes in. */
export const WATCHED_STATUSES = ['sending', 'paused'] as const satisfies readonly DeploymentStatus[];
