import type { webApi } from '@slack/bolt';
import type { Logger } from '../lib/logger.js';

/**
 * What Slack says about a user (users.info, scope `users:read`): deactivated, a guest, a stranger
 * to our workspace, and which team they belong to. The gate asks it before every control action
 * (cancel, pause, resume); the operators table alone cannot know that a responder was deactivated
 * or turned into a guest yesterday.
 *
 * Answers are cached for `ttlMs` (60 s): a click must be answered within Slack's 3 s, and a
 * responder clicking Cancel then submitting the modal asks twice. A deactivation therefore takes
 * effect within a minute.
 *
 * When Slack cannot answer (rate limit, outage, timeout, a token without `users:read`) the lookup
 * fails open: `undefined`, with a warning in the log. The operators table is the real gate and
 * still applies; refusing an on-call responder's cancel during a Slack API outage would do more
 * harm than letting a just-deactivated operator act for a few more minutes. A failure is cached
 * briefly too, so a rate limit is not made worse by asking again on every click.
 */
export interface SlackProfile {
  deleted: boolean;
  /** A multi-channel (`is_restricted`) or single-channel (`is_ultra_restricted`) guest. */
  guest: boolean;
  /** Slack says the user belongs to another workspace and shares no channel we see. */
  stranger: boolean;
  teamId: string | null;
  /** users.info answered `user_not_found`: not a user our token can see. */
  unknown?: true;
}

export interface UserDirectory {
  /** `undefined` when Slack could not answer in time: the caller fails open. */
  profile(userId: string): Promise<SlackProfile | undefined>;
}

type UsersInfoUser = { deleted?: boolean; is_restricted?: boolean; is_ultra_restricted?: boolean; is_stranger?: boolean; team_id?: string };

const MAX_ENTRIES = 5000;

export function createUserDirectory(deps: {
  client: Pick<webApi.WebClient, 'users'>;
  logger: Logger;
  ttlMs?: number;
  /** How long a failure is remembered (so a rate limit is not hammered). */
  failureTtlMs?: number;
  /** Past this, the lookup is given up (the click must still be answered within 3 s). */
  timeoutMs?: number;
  now?: () => number;
}): UserDirectory {
  const ttlMs = deps.ttlMs ?? 60_000;
  const failureTtlMs = deps.failureTtlMs ?? 10_000;
  const timeoutMs = deps.timeoutMs ?? 1000;
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { profile: SlackProfile | undefined; until: number }>();
  /** A double click asks Slack once. */
  const asking = new Map<string, Promise<SlackProfile | undefined>>();

  const remember = (userId: string, profile: SlackProfile | undefined, ttl: number) => {
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(userId, { profile, until: now() + ttl });
    return profile;
  };

  async function ask(userId: string): Promise<SlackProfile | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        deps.client.users.info({ user: userId }),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`users.info gave no answer within ${timeoutMs} ms`)), timeoutMs))),
      ]);
      const user = (answer.user ?? {}) as UsersInfoUser;
      return remember(userId, {
        deleted: user.deleted === true,
        guest: user.is_restricted === true || user.is_ultra_restricted === true,
        stranger: user.is_stranger === true,
        teamId: user.team_id ?? null,
      }, ttlMs);
    } catch (error) {
      const code = (error as { data?: { error?: string } }).data?.error;
      if (code === 'user_not_found') return remember(userId, { deleted: false, guest: false, stranger: true, teamId: null, unknown: true }, ttlMs);
      deps.logger.warn({ err: error, user: userId }, 'users.info failed; the operators table alone decides (fail open)');
      return remember(userId, undefined, failureTtlMs);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async profile(userId) {
      const hit = cache.get(userId);
      if (hit && hit.until > now()) return hit.profile;
      const pending = asking.get(userId) ?? ask(userId).finally(() => asking.delete(userId));
      asking.set(userId, pending);
      return pending;
    },
  };
}
