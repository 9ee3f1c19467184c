import { ok, refused, type Result } from '../../domain/result.js';
import type { Database, Executor } from '../../db/client.js';
import { recordAudit } from '../../db/queries/audit.js';
import { acquireCampaignLock, findCampaign, releaseCampaignLock, type CampaignRow } from '../../db/queries/campaigns.js';
import { ID_PATTERN } from '../../lib/ids.js';
import { USER_PATTERN } from '../access.js';

/**
 * Edit locks, as the email platform holds them while someone edits a campaign. A cancel by a
 * permitted responder overrides them (recorded by the cancellation service); nothing else does.
 */
export type LockRefusal = 'not_found' | 'locked_by_other' | 'not_locked' | 'invalid_actor';

export function createLockService(deps: { db: Database; clock: () => Date }) {
  const { db, clock } = deps;

  const lookup = async (tx: Executor, id: string) =>
    ID_PATTERN.test(id) && id.startsWith('cmp_') ? findCampaign(tx, id) : undefined;

  return {
    async lock(campaignId: string, actor: string): Promise<Result<CampaignRow, LockRefusal>> {
      if (!USER_PATTERN.test(actor)) return refused('invalid_actor', '--actor must be a user id (letters, digits, . _ @ -)');
      const at = clock();
      return db.transaction(async (tx) => {
        const current = await lookup(tx, campaignId);
        if (!current) return refused('not_found', `No campaign matches "${campaignId.slice(0, 60)}".`);
        const row = await acquireCampaignLock(tx, campaignId, actor, at);
        if (!row) {
          return refused('locked_by_other', `It is locked by ${current.lockedBy} since ${current.lockedAt?.toISOString()}.`);
        }
        await recordAudit(tx, { at, actor, action: 'campaign.lock', targetType: 'campaign', targetId: campaignId, outcome: 'ok' });
        return ok(row);
      });
    },

    async unlock(campaignId: string, actor: string, force = false): Promise<Result<CampaignRow, LockRefusal>> {
      if (!USER_PATTERN.test(actor)) return refused('invalid_actor', '--actor must be a user id (letters, digits, . _ @ -)');
      const at = clock();
      return db.transaction(async (tx) => {
        const current = await lookup(tx, campaignId);
        if (!current) return refused('not_found', `No campaign matches "${campaignId.slice(0, 60)}".`);
        if (!current.lockedBy) return refused('not_locked', 'It is not locked.');
        if (current.lockedBy !== actor && !force) {
          return refused('locked_by_other', `It is locked by ${current.lockedBy}; only they can unlock it (or use --force).`);
        }
        const row = (await releaseCampaignLock(tx, campaignId, at))!;
        await recordAudit(tx, {
          at,
          actor,
          action: 'campaign.unlock',
          targetType: 'campaign',
          targetId: campaignId,
          outcome: 'ok',
          details: { previousHolder: current.lockedBy, forced: current.lockedBy !== actor },
        });
        return ok(row);
      });
    },
  };
}
