import type { SqlExecutor } from '../../db/client.js';
import { enqueueAlertRefresh, staleAlertMessage } from '../../db/queries/slack-outbox.js';
import type { Logger } from '../../lib/logger.js';
import type { AcknowledgementService } from '../../services/alerts/acknowledgement.js';
import type { ControlService } from '../../services/control.js';
import type { StatusService } from '../../services/status.js';
import type { Gate } from '../access.js';

/** What the listeners may call: each handler factory takes these and nothing global. */
export interface ListenerDeps {
  control: Pick<ControlService, 'cancel' | 'pause' | 'resume'>;
  status: Pick<StatusService, 'lookup' | 'active'>;
  onCall: Pick<AcknowledgementService, 'acknowledge' | 'snooze'>;
  gate: Gate;
  sql: SqlExecutor;
  logger: Logger;
  /** Something was written to the outbox: deliver now. */
  outboxChanged(): void;
  /** Deployments changed: App Home views are refreshed (throttled). */
  homeChanged(): void;
  /** The App Home of one user. */
  publishHome(userId: string, teamId: string | null): Promise<void>;
  /** How long a listener may take before it answers "cannot right now" (Slack waits 3 s). */
  deadlineMs: number;
  /** How long a command's answer may take to go in the acknowledgement; later ones follow via response_url. */
  quickAckMs: number;
}

export class DeadlineExceeded extends Error {
  constructor() {
    super('no answer in time');
  }
}

export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new DeadlineExceeded()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export const UNAVAILABLE = ':hourglass: Campaign Guard cannot answer right now (its database did not respond in time, or failed). Retry in a moment; `/campaign status` shows what is true now.';
export const CANNOT_CANCEL = 'Campaign Guard cannot cancel right now: its database did not answer. Retry in a moment; /campaign status shows whether anything changed.';

/**
 * A click on a message whose buttons are out of date: the message is edited to the current state
 * (once: not when the change that ended it already queued an edit).
 */
export async function refreshClickedMessage(deps: ListenerDeps, channel: string | undefined, ts: string | undefined): Promise<void> {
  if (!channel || !ts) return;
  try {
    const alert = await staleAlertMessage(deps.sql, channel, ts);
    if (!alert) return;
    await enqueueAlertRefresh(deps.sql, alert.id);
    deps.outboxChanged();
  } catch (error) {
    deps.logger.warn({ err: error }, 'could not queue the edit of a stale message');
  }
}
