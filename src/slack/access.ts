import type { SqlExecutor } from '../db/client.js';
import { operatorRole, recordSlackRefusal } from '../db/queries/slack-outbox.js';
import type { Logger } from '../lib/logger.js';

/**
 * Who may do what, from the identity in the signed request (user id, team id) and the operators
 * table; never from what a button carried. Users of other workspaces are refused unless their
 * team is allowed. Every refusal is explained and audited.
 */
export interface SlackIdentity {
  userId: string;
  teamId: string | null;
}

export type Need = 'view' | 'control';
export type GateVerdict = { ok: true; role: string } | { ok: false; text: string };

const CONTROL_ROLES = new Set(['responder', 'admin']);

export interface Gate {
  check(identity: SlackIdentity, need: Need, action: string, target: string | null): Promise<GateVerdict>;
  /** The workspace the app is installed in (from auth.test); its users are ours. */
  setHomeTeam(teamId: string | undefined): void;
}

export function createGate(deps: { sql: SqlExecutor; allowedTeams: string[]; logger: Logger }): Gate {
  let homeTeam: string | undefined;
  const refuse = async (identity: SlackIdentity, action: string, target: string | null, why: string, text: string): Promise<GateVerdict> => {
    try {
      await recordSlackRefusal(deps.sql, { actor: identity.userId, team: identity.teamId, action: `slack.${action}`, target, why });
    } catch (error) {
      deps.logger.warn({ err: error, action }, 'could not audit a refused Slack request');
    }
    return { ok: false, text };
  };
  return {
    setHomeTeam(teamId) {
      homeTeam = teamId;
    },
    async check(identity, need, action, target) {
      const teamOk = identity.teamId !== null && (identity.teamId === homeTeam || deps.allowedTeams.includes(identity.teamId));
      if (!teamOk) {
        return refuse(identity, action, target, `team ${identity.teamId ?? 'unknown'} is not allowed`, ':no_entry: Campaign Guard only answers people of its own workspace (and teams an admin allowed). Your workspace is not on that list, so nothing was changed.');
      }
      const role = await operatorRole(deps.sql, identity.userId);
      if (!role) {
        return refuse(identity, action, target, 'no operator role', `:no_entry: You have no access to Campaign Guard, so nothing was changed. Ask an admin to run \`campaign-guard access grant ${identity.userId} --role responder\`.`);
      }
      if (need === 'control' && !CONTROL_ROLES.has(role)) {
        return refuse(identity, action, target, `role ${role} may not ${action}`, `:no_entry: You are a ${role}; only responders and admins may ${action}. Nothing was changed.`);
      }
      return { ok: true, role };
    },
  };
}

/** The identity in an interaction payload (block_actions, view_submission). */
export function interactionIdentity(body: { user?: { id?: string; team_id?: string }; team?: { id?: string } | null }): SlackIdentity {
  return { userId: String(body.user?.id ?? ''), teamId: body.user?.team_id ?? body.team?.id ?? null };
}
