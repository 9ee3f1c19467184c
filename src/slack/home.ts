import type { webApi } from '@slack/bolt';
import type { Logger } from '../lib/logger.js';
import type { ActiveDeployment, StatusService } from '../services/status.js';
import type { Gate } from './access.js';
import { homeView } from './blocks/home.js';
import { section } from './blocks/common.js';

/**
 * App Home: published when a user opens it, and re-published for recent viewers when the active
 * deployments change (a change here is told at once; a change in another process is seen by a
 * poll), at most once per `throttleMs`. Every publish asks the gate for that user first, as a
 * click does: a viewer whose access was revoked since gets the refusal (which replaces the
 * monitor they saw) and is dropped from the viewers.
 */
const VIEWER_TTL_MS = 24 * 3600_000;

export function createHomePublisher(deps: { client: webApi.WebClient; status: Pick<StatusService, 'active'>; gate: Gate; logger: Logger; throttleMs?: number; pollMs?: number }) {
  const throttleMs = deps.throttleMs ?? 5000;
  const pollMs = deps.pollMs ?? 15_000;
  const viewers = new Map<string, { teamId: string | null; at: number }>();
  let lastSignature = '';
  let lastRefresh = 0;
  let pending: NodeJS.Timeout | undefined;
  let poller: NodeJS.Timeout | undefined;

  const signature = (rows: ActiveDeployment[]) =>
    rows.map((r) => `${r.deployment.id}:${r.deployment.status}:${r.deployment.counts.sent + r.deployment.counts.bounced + r.deployment.counts.failed}`).join('|');

  /** The gate's verdict for this user's Home; a refusal is published in place of the monitor. */
  async function allowed(userId: string, teamId: string | null): Promise<boolean> {
    const verdict = await deps.gate.check({ userId, teamId }, 'view', 'home', null, { surface: 'home' });
    if (verdict.ok) return true;
    viewers.delete(userId);
    await deps.client.views.publish({ user_id: userId, view: { type: 'home', blocks: [section(verdict.text)] } });
    return false;
  }

  async function publishTo(userId: string, rows: ActiveDeployment[]) {
    await deps.client.views.publish({ user_id: userId, view: homeView(rows, new Date()) });
  }

  async function refreshAll() {
    lastRefresh = Date.now();
    for (const [user, seen] of viewers) if (Date.now() - seen.at > VIEWER_TTL_MS) viewers.delete(user);
    if (viewers.size === 0) return;
    const rows = await deps.status.active();
    lastSignature = signature(rows);
    for (const [user, seen] of [...viewers]) {
      // A gate that cannot answer (database down) publishes nothing: no monitor without a yes.
      await (async () => {
        if (await allowed(user, seen.teamId)) await publishTo(user, rows);
      })().catch((error: unknown) => deps.logger.warn({ err: error, user }, 'could not refresh App Home'));
    }
  }

  return {
    async publish(userId: string, teamId: string | null) {
      if (!(await allowed(userId, teamId))) return;
      viewers.set(userId, { teamId, at: Date.now() });
      const rows = await deps.status.active();
      lastSignature = signature(rows);
      await publishTo(userId, rows);
    },
    changed() {
      if (pending || viewers.size === 0) return;
      const wait = Math.max(0, lastRefresh + throttleMs - Date.now());
      pending = setTimeout(() => {
        pending = undefined;
        refreshAll().catch((error: unknown) => deps.logger.warn({ err: error }, 'App Home refresh failed'));
      }, wait);
    },
    start() {
      poller = setInterval(() => {
        if (viewers.size === 0) return;
        deps.status
          .active()
          .then((rows) => {
            if (signature(rows) !== lastSignature) this.changed();
          })
          .catch(() => undefined);
      }, pollMs);
      poller.unref();
    },
    stop() {
      clearInterval(poller);
      clearTimeout(pending);
    },
  };
}

export type HomePublisher = ReturnType<typeof createHomePublisher>;
