import type { SqlExecutor } from '../db/client.js';
import { recordRefusal } from '../db/queries/audit.js';
import { operatorRole } from '../db/queries/operators.js';
import { CONTROL_ROLES_IN_WORDS, mayControl } from '../domain/roles.js';
import type { Logger } from '../lib/logger.js';
import { channelVerdict, type Place } from './channels.js';
import type { SlackProfile, UserDirectory } from './directory.js';

/**
 * Who may do what, and where: from the identity in the signed request (user id, team id), the
 * place it came from (a channel, or our App Home / modals), the operators table and, for control
 * actions, what Slack says about the user; never from what a button carried. Checked cheapest
 * first: team, place, role, then Slack's profile. Every refusal is explained and audited.
 */
export interface SlackIdentity {
  userId: string;
  teamId: string | null;
}

export type { Place } from './channels.js';
export type Need = 'view' | 'control';
export type Refusal = { ok: false; text: string };
export type GateVerdict = { ok: true; role: string } | Refusal;

export interface Gate {
  check(identity: SlackIdentity, need: Need, action: string, target: string | null, place: Place): Promise<GateVerdict>;
  /** A refusal only the listener can judge (a button value or form it does not understand): audited like the others. */
  recordRefusal(identity: SlackIdentity, action: string, target: string | null, why: string): Promise<void>;
  /** The workspace the app is installed in (from auth.test); its users are ours. */
  setHomeTeam(teamId: string | undefined): void;
}

export function createGate(deps: {
  sql: SqlExecutor;
  allowedTeams: string[];
  /** The alert channel and SLACK_ALLOWED_CHANNELS; empty: every channel but direct messages. */
  allowedChannels: string[];
  /** Absent: no users.info check (Slack off in the process, or tests of the table alone). */
  directory?: UserDirectory;
  logger: Logger;
}): Gate {
  let homeTeam: string | undefined;
  const refuse = async (identity: SlackIdentity, action: string, target: string | null, why: string, text: string): Promise<Refusal> => {
    try {
      await recordRefusal(deps.sql, { actor: identity.userId, team: identity.teamId, action: `slack.${action}`, target, why, via: 'slack' });
    } catch (error) {
      deps.logger.warn({ err: error, action }, 'could not audit a refused Slack request');
    }
    return { ok: false, text };
  };
  const foreignTeam = (teamId: string | null) => teamId === null || (teamId !== homeTeam && !deps.allowedTeams.includes(teamId));

  /** Why Slack's profile of the user forbids control actions, if it does. */
  const profileProblem = (profile: SlackProfile): { why: string; text: string } | undefined => {
    const only = 'only full members of this workspace may cancel, pause or resume. Nothing was changed.';
    if (profile.deleted) return { why: 'deactivated in Slack', text: `:no_entry: Slack says your account is deactivated; ${only}` };
    if (profile.guest) return { why: 'a guest in Slack', text: `:no_entry: Slack says you are a guest; ${only}` };
    if (profile.stranger) return { why: 'a stranger to this workspace in Slack', text: `:no_entry: Slack says you are not a member of this workspace; ${only}` };
    if (profile.teamId !== null && foreignTeam(profile.teamId)) return { why: `Slack says team ${profile.teamId}, which is not allowed`, text: `:no_entry: Slack says your account belongs to another organisation; ${only}` };
    return undefined;
  };

  return {
    setHomeTeam(teamId) {
      homeTeam = teamId;
    },
    async recordRefusal(identity, action, target, why) {
      await refuse(identity, action, target, why, '');
    },
    async check(identity, need, action, target, place) {
      if (foreignTeam(identity.teamId)) {
        return refuse(identity, action, target, `team ${identity.teamId ?? 'unknown'} is not allowed`, ':no_entry: Campaign Guard only answers people of its own workspace (and teams an admin allowed). Your workspace is not on that list, so nothing was changed.');
      }
      const where = channelVerdict(place, deps.allowedChannels);
      if (!where.ok) return refuse(identity, action, target, where.why, where.text);
      const role = await operatorRole(deps.sql, identity.userId);
      if (!role) {
        return refuse(identity, action, target, 'no operator role', `:no_entry: You have no access to Campaign Guard, so nothing was changed. Ask an admin to run \`campaign-guard access grant ${identity.userId} --role responder\`.`);
      }
      if (need === 'control' && !mayControl(role)) {
        return refuse(identity, action, target, `role ${role} may not ${action}`, `:no_entry: You are a ${role}; only ${CONTROL_ROLES_IN_WORDS} may ${action}. Nothing was changed.`);
      }
      if (need === 'control' && deps.directory) {
        // undefined: Slack could not answer; the operators table above decided (see directory.ts).
        const profile = await deps.directory.profile(identity.userId);
        const problem = profile && profileProblem(profile);
        if (problem) return refuse(identity, action, target, problem.why, problem.text);
      }
      return { ok: true, role };
    },
  };
}

/** The identity in an interaction payload (block_actions, view_submission). */
export function interactionIdentity(body: { user?: { id?: string; team_id?: string }; team?: { id?: string } | null }): SlackIdentity {
  return { userId: String(body.user?.id ?? ''), teamId: body.user?.team_id ?? body.team?.id ?? null };
}
