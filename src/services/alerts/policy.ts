import { ok, refused, type Result } from '../../domain/result.js';
import { applyOverride, METRICS, type Policy, type PolicyOverride } from '../../domain/thresholds.js';
import type { DatabaseHandle, SqlExecutor } from '../../db/client.js';
import { recordDone } from '../../db/queries/audit.js';
import { ID_PATTERN } from '../../lib/ids.js';
import { parsePolicyOverride } from './monitor.js';

/**
 * Per-campaign alert policy: overrides on top of the configured defaults (a newsletter to an old
 * list may deserve a higher bounce threshold; a transactional send a lower one). Stored on the
 * campaign, read by the monitor at its next tick, audited.
 */
export type PolicyRefusal = 'not_found' | 'invalid_policy';

export interface PolicyView {
  campaignId: string;
  override: PolicyOverride | null;
  effective: Policy;
}

/** Merges a change into an override, metric by metric, so setting one value keeps the others. */
function merge(current: PolicyOverride | null, change: PolicyOverride): PolicyOverride {
  const thresholds = { ...(current?.thresholds ?? {}) };
  for (const metric of METRICS) {
    if (change.thresholds?.[metric]) thresholds[metric] = { ...thresholds[metric], ...change.thresholds[metric] };
  }
  const merged: PolicyOverride = { ...current, ...change, thresholds };
  if (Object.keys(thresholds).length === 0) delete merged.thresholds;
  return merged;
}

export function createAlertPolicyService(deps: { database: DatabaseHandle; defaults: Policy }) {
  const { sql } = deps.database;

  async function read(tx: SqlExecutor, campaignId: string, lock: boolean) {
    if (!ID_PATTERN.test(campaignId) || !campaignId.startsWith('cmp_')) return undefined;
    const [row] = lock
      ? await tx<{ alert_policy: unknown }[]>`select alert_policy from campaigns where id = ${campaignId} for update`
      : await tx<{ alert_policy: unknown }[]>`select alert_policy from campaigns where id = ${campaignId}`;
    return row;
  }

  const view = (campaignId: string, override: PolicyOverride | null): PolicyView => {
    const applied = applyOverride(deps.defaults, override);
    return { campaignId, override, effective: applied.ok ? applied.policy : deps.defaults };
  };

  return {
    async show(campaignId: string): Promise<Result<PolicyView, PolicyRefusal>> {
      const row = await read(sql, campaignId, false);
      if (!row) return refused('not_found', `No campaign matches "${campaignId.slice(0, 60)}".`);
      const parsed = parsePolicyOverride(row.alert_policy);
      return ok(view(campaignId, parsed.ok ? parsed.override : null));
    },

    /** `reset` drops every override; otherwise the change is merged into the current override. */
    async set(campaignId: string, change: PolicyOverride | 'reset', actor: string): Promise<Result<PolicyView, PolicyRefusal>> {
      return (await sql.begin(async (tx) => {
        const row = await read(tx, campaignId, true);
        if (!row) return refused('not_found', `No campaign matches "${campaignId.slice(0, 60)}".`);
        const current = parsePolicyOverride(row.alert_policy);
        const next = change === 'reset' ? null : merge(current.ok ? current.override : null, change);
        const checked = parsePolicyOverride(next);
        if (!checked.ok) return refused('invalid_policy', checked.reason);
        const applied = applyOverride(deps.defaults, checked.override);
        if (!applied.ok) return refused('invalid_policy', applied.reason);
        await tx`update campaigns set alert_policy = ${next === null ? null : JSON.stringify(next)}::jsonb, updated_at = now() where id = ${campaignId}`;
        await recordDone(tx, { actor, action: 'campaign.alert_policy', targetType: 'campaign', targetId: campaignId, reason: null, details: { override: next }, requestKey: null });
        return ok(view(campaignId, checked.override));
      })) as Result<PolicyView, PolicyRefusal>;
    },
  };
}

export type AlertPolicyService = ReturnType<typeof createAlertPolicyService>;
