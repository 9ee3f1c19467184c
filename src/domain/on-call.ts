/**
 * The on-call rules for an alert, as PagerDuty's and Grafana OnCall's Slack apps have them:
 * who may acknowledge ("I'm on it") and when, what a snooze means and until when, whom an alert
 * mentions, and when an alert nobody acted on is re-announced. Pure: the services and the SQL
 * take their values from here.
 */
import { ALERT_STATE, type AlertState } from './alert-states.js';
import { refused, ok, type Result } from './result.js';
import { mayControl } from './roles.js';

/** Campaign Guard itself (an auto-pause, a relay fault's pause): its actions acknowledge nothing. */
export const SYSTEM_ACTOR = 'campaign-guard';

/** Acknowledging is acting on a send's alert: the same roles as cancel, pause and resume. */
export const mayAcknowledge = mayControl;

/** A human cancel, pause or resume acknowledges the open alerts of what it touched; Campaign Guard's own do not. */
export const acknowledgesAlerts = (actor: string): boolean => actor !== SYSTEM_ACTOR;

export type Severity = 'warning' | 'critical';

export interface OnCallState {
  state: AlertState;
  severity: Severity;
  acknowledgedBy: string | null;
  acknowledgedAt: Date | null;
  snoozedUntil: Date | null;
}

export type AcknowledgeRefusal = 'not_found' | 'not_permitted' | 'not_open' | 'already_acknowledged';
export type SnoozeRefusal = 'not_found' | 'not_permitted' | 'not_open' | 'critical';

/** A second acknowledgement changes nothing; the adapter says who was first, and when. */
export type AlreadyAcknowledged = { readonly ok: false; readonly code: 'already_acknowledged'; readonly reason: string; readonly by: string; readonly at: Date | null };

export function canAcknowledge(alert: OnCallState): Result<void, Exclude<AcknowledgeRefusal, 'already_acknowledged'>> | AlreadyAcknowledged {
  if (alert.state !== ALERT_STATE.open) return refused('not_open', 'This alert has resolved; there is nothing to acknowledge.');
  if (alert.acknowledgedBy) return { ok: false, code: 'already_acknowledged', reason: `already acknowledged by ${alert.acknowledgedBy}`, by: alert.acknowledgedBy, at: alert.acknowledgedAt };
  return ok(undefined);
}

/** Only a warning can be silenced: a critical alert always reaches someone. */
export function canSnooze(alert: OnCallState): Result<void, SnoozeRefusal> {
  if (alert.state !== ALERT_STATE.open) return refused('not_open', 'This alert has resolved; there is nothing to snooze.');
  if (alert.severity === 'critical') return refused('critical', 'A critical alert cannot be snoozed; acknowledge it, pause or cancel the send.');
  return ok(undefined);
}

export const SNOOZE_CHOICES = ['30m', '2h', 'tomorrow'] as const;
export type SnoozeChoice = (typeof SNOOZE_CHOICES)[number];
export const SNOOZE_LABELS: Record<SnoozeChoice, string> = { '30m': 'Snooze 30 min', '2h': 'Snooze 2 h', tomorrow: 'Snooze until tomorrow 09:00 UTC' };

/** The hour (UTC) "until tomorrow" ends: the next 09:00 UTC, the start of a working day in Europe and a sane hour to look again. */
export const SNOOZE_MORNING_HOUR_UTC = 9;

export function snoozeUntil(choice: SnoozeChoice, now: Date): Date {
  if (choice === '30m') return new Date(now.getTime() + 30 * 60_000);
  if (choice === '2h') return new Date(now.getTime() + 2 * 3600_000);
  const morning = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), SNOOZE_MORNING_HOUR_UTC));
  return morning.getTime() > now.getTime() ? morning : new Date(morning.getTime() + 86_400_000);
}

export const isSnoozed = (snoozedUntil: Date | null, now: Date): boolean => snoozedUntil !== null && snoozedUntil.getTime() > now.getTime();

const SEVERITY_RANK: Record<Severity, number> = { warning: 1, critical: 2 };

/** Whether an alert of this severity mentions the on-call group (not while snoozed). */
export function mentions(severity: Severity, minSeverity: Severity, snoozedUntil: Date | null, now: Date): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[minSeverity] && !isSnoozed(snoozedUntil, now);
}

/**
 * When an open alert nobody acknowledged is re-announced: escalateAfterSeconds after it opened,
 * or after it turned critical (a critical escalation alerts again and restarts the clock), or
 * after a snooze ended, whichever is latest. undefined: never (0 turns it off).
 */
export function reannounceDueAt(alert: { openedAt: Date; escalatedAt: Date | null; snoozedUntil: Date | null }, escalateAfterSeconds: number): Date | undefined {
  if (escalateAfterSeconds <= 0) return undefined;
  const from = Math.max(alert.openedAt.getTime(), alert.escalatedAt?.getTime() ?? 0, alert.snoozedUntil?.getTime() ?? 0);
  return new Date(from + escalateAfterSeconds * 1000);
}

/** "15 min", "2 h", "45 s": how long nobody acknowledged, for the re-announcement. */
export function waitedFor(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60) return `${Math.round(seconds / 60)} min`;
  return `${seconds} s`;
}
