/**
 * What a `sending` deployment is doing right now, told honestly: handing messages over (with its
 * own rate), or waiting — for a lane, the rate, or the relay — with nothing handed over for a
 * while. Shared deployments take turns, so "sending" alone would not say which.
 */
export const WAITING_AFTER_MS = 5000;

export type SendPace =
  | { state: 'handing-over'; lastHandOffAt: Date; perSecond: number | null }
  | { state: 'waiting'; since: Date | null; lastHandOffAt: Date | null };

export function sendPace(
  d: { status: string; startedAt: Date | null; lastHandOffAt: Date | null; perSecond: number | null },
  now: Date,
): SendPace | undefined {
  if (d.status !== 'sending') return undefined;
  if (d.lastHandOffAt && now.getTime() - d.lastHandOffAt.getTime() <= WAITING_AFTER_MS) {
    return { state: 'handing-over', lastHandOffAt: d.lastHandOffAt, perSecond: d.perSecond };
  }
  return { state: 'waiting', since: d.lastHandOffAt ?? d.startedAt, lastHandOffAt: d.lastHandOffAt };
}
