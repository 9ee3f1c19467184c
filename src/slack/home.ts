import type { webApi } from '@slack/bolt';
import type { Logger } from '../lib/logger.js';
import type { OpenAlertOnCall } from '../db/queries/on-call.js';
import type { AlertReader } from '../services/alerts/reader.js';
import type { ActiveDeployment, StatusService } from '../services/status.js';
import type { Gate } from './access.js';
import { homeView } from './blocks/home.js';
import { section } from './blocks/common.js';

/**
 * App Home (the open alerts with who is on each, and the active deployments): published when a user opens it, and re-published for recent viewers when the active
 * deployments change (a change here is told at once; a change in another process is seen by a
 * poll), at most once per `throttleMs`. Every publish asks the gate for that user first, as a
 * click does: a viewer whose access was revoked since gets the refusal (which replaces the
 * monitor they saw) and is dropped from the viewers.
 */
const VIEWER_TTL_MS = 24 * 3600_000;

export interface HomeData {
  rows: ActiveDeployment[];
  alerts: OpenAlertOnCall[];
}

export function createHomePublisher(deps: {
  client: webApi.WebClient;
  status: Pick<StatusService, 'active'>;
  alerts: Pick<AlertReader, 'openOnCall'>;
  gate: Gate;
  logger: Logger;
  throttleMs?: number;
  pollMs?: number;
}) {
  const throttleMs = deps.throttleMs ?? 5000;
  const pollMs = deps.pollMs ?? 15_000;
  const viewers = new Map<string, { teamId: string | null; at: number }>();
  let lastSignature = '';
  let lastRefresh = 0;
  let pending: NodeJS.Timeout | undefined;
  let poller: NodeJS.Timeout | undefined;

  const signature = ({ rows, alerts }: HomeData) =>
    [
      ...rows.map((r) => `${r.deployment.id}:${r.deployment.status}:${r.deployment.counts.sent + r.deployment.counts.bounced + r.deployment.counts.failed}`),
      ...alerts.map((a) => `${a.id}:${a.severity}:${a.acknowledged_by ?? ''}:${a.snoozed_until?.valueOf() ?? ''}:${a.reannounced_at?.valueOf() ?? ''}`),
    ].join('|');
  const load = async (): Promise<HomeData> => {
    const [rows, alerts] = await Promise.all([deps.status.active(), deps.alerts.openOnCall()]);
    return { rows, alerts };
  };

  /** The gate's verdict for this user's Home; a refusal is published in place of the monitor. */
  async function allowed(userId: string, teamId: string | null): Promise<boolean> {
    const verdict = await deps.gate.check({ userId, teamId }, 'view', 'home', null, { surface: 'home' });
    if (verdict.ok) return true;
    viewers.delete(userId);
    await deps.client.views.publish({ user_id: userId, view: { type: 'home', blocks: [section(verdict.text)] } });
    return false;
  }

  async function publishTo(userId: string, data: HomeData) {
    await deps.client.views.publish({ user_id: userId, view: homeView(data.rows, new Date(), data.alerts) });
  }

  async function refreshAll() {
    lastRefresh = Date.now();
    for (const [user, seen] of viewers) if (Date.now() - seen.at > VIEWER_TTL_MS) viewers.delete(user);
    if (viewers.size === 0) return;
    const data = await load();
    lastSignature = signature(data);
    for (const [user, seen] of [...viewers]) {
      // A gate that cannot answer (database down) publishes nothing: no monitor without a yes.
      await (async () => {
        if (await allowed(user, seen.teamId)) await publishTo(user, data);
      })().catch((error: unknown) => deps.logger.warn({ err: error, user }, 'could not refresh App Home'));
    }
  }

  return {
    async publish(userId: string, teamId: string | null) {
      if (!(await allowed(userId, teamId))) return;
      viewers.set(userId, { teamId, at: Date.now() });
      const data = await load();
      lastSignature = signature(data);
      await publishTo(userId, data);
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
        load()
          .then((data) => {
            if (signature(data) !== lastSignature) this.changed();
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
