import {
  canAcknowledge,
  canSnooze,
  mayAcknowledge,
  snoozeUntil,
  type AcknowledgeRefusal,
  type AlreadyAcknowledged,
  type OnCallState,
  type SnoozeChoice,
  type SnoozeRefusal,
} from '../../domain/on-call.js';
import { ok, refused, type Result } from '../../domain/result.js';
import { CONTROL_ROLES_IN_WORDS } from '../../domain/roles.js';
import type { DatabaseHandle, SqlExecutor } from '../../db/client.js';
import { recordDone, recordRefusal } from '../../db/queries/audit.js';
import { acknowledgeAlerts, lockAlertsForOnCall, markSnoozed, type OnCallRow } from '../../db/queries/on-call.js';
import { operatorRole } from '../../db/queries/operators.js';
import { enqueueAlertChange } from '../../db/queries/slack-outbox.js';
import { idKind } from '../../lib/ids.js';

/**
 * "I'm on it" and "not now": a responder acknowledges an alert (or every open alert of a
 * deployment) or snoozes a warning. Each is one transaction: the permission check, the rule
 * (domain/on-call.ts), the change, its audit row, the alert message's edit and, for an
 * acknowledgement, the pagers' acknowledge. Expected refusals are Result values.
 */
export interface Acknowledged {
  alertIds: string[];
  at: Date;
}

export type AcknowledgeOutcome = Result<Acknowledged, Exclude<AcknowledgeRefusal, 'already_acknowledged'>> | AlreadyAcknowledged;

export interface Snoozed {
  alertId: string;
  until: Date;
}

/** A row as the rules read it (postgres.js gives timestamps as text here). */
const onCallState = (row: OnCallRow): OnCallState => ({
  state: row.state,
  severity: row.severity,
  acknowledgedBy: row.acknowledged_by,
  acknowledgedAt: row.acknowledged_at ? new Date(row.acknowledged_at) : null,
  snoozedUntil: row.snoozed_until ? new Date(row.snoozed_until) : null,
});

export function createAcknowledgementService(deps: { database: DatabaseHandle; clock?: () => Date }) {
  const { sql } = deps.database;
  const clock = deps.clock ?? (() => new Date());

  async function refusedRole(tx: SqlExecutor, actor: string, target: string, action: string): Promise<string | undefined> {
    const role = await operatorRole(tx, actor);
    if (mayAcknowledge(role)) return undefined;
    const why = role ? `${actor} is a ${role}; only ${CONTROL_ROLES_IN_WORDS} may ${action} alerts.` : `${actor} has no access; ask an admin for the responder role.`;
    await recordRefusal(tx, { actor, action: `alert.${action}`, target, why });
    return why;
  }

  return {
    /** `target`: an alert id (alr_…), or a deployment id (dep_…) for every open alert of it. */
    async acknowledge(target: string, actor: string): Promise<AcknowledgeOutcome> {
      const kind = idKind(target);
      if (kind !== 'alert' && kind !== 'deployment') return refused('not_found', `\`${target}\` is not an alert or deployment id.`);
      return (await sql.begin(async (tx) => {
        const rows = await lockAlertsForOnCall(tx, kind === 'alert' ? { alertId: target } : { deploymentId: target });
        if (rows.length === 0) return kind === 'alert' ? refused('not_found', `No alert ${target}.`) : refused('not_open', `${target} has no open alert.`);
        const why = await refusedRole(tx, actor, target, 'acknowledge');
        if (why) return refused('not_permitted', why);
        const checks = rows.map((row) => canAcknowledge(onCallState(row)));
        const open = rows.filter((_, i) => checks[i]!.ok);
        if (open.length === 0) return checks[0] as AcknowledgeOutcome;
        const alertIds = await acknowledgeAlerts(tx, { alertIds: open.map((r) => r.id) }, actor);
        for (const alertId of alertIds) {
          await recordDone(tx, { actor, action: 'alert.acknowledge', targetType: 'alert', targetId: alertId, reason: null, details: { deploymentId: open.find((r) => r.id === alertId)!.deployment_id }, requestKey: null });
          await enqueueAlertChange(tx, alertId, 'acknowledged', `alert:${alertId}:acknowledged`);
        }
        return ok({ alertIds, at: clock() });
      })) as AcknowledgeOutcome;
    },

    /** A warning silenced until `choice` ends: no mention or re-announcement meanwhile. Snoozing again moves the end. */
    async snooze(alertId: string, choice: SnoozeChoice, actor: string): Promise<Result<Snoozed, SnoozeRefusal>> {
      if (idKind(alertId) !== 'alert') return refused('not_found', `\`${alertId}\` is not an alert id.`);
      return (await sql.begin(async (tx) => {
        const [row] = await lockAlertsForOnCall(tx, { alertId });
        if (!row) return refused('not_found', `No alert ${alertId}.`);
        const why = await refusedRole(tx, actor, alertId, 'snooze');
        if (why) return refused('not_permitted', why);
        const check = canSnooze(onCallState(row));
        if (!check.ok) return check;
        const until = snoozeUntil(choice, clock());
        await markSnoozed(tx, alertId, until, actor);
        await recordDone(tx, { actor, action: 'alert.snooze', targetType: 'alert', targetId: alertId, reason: null, details: { choice, until: until.toISOString() }, requestKey: null });
        await enqueueAlertChange(tx, alertId, 'snoozed', `alert:${alertId}:snoozed:${until.getTime()}`);
        return ok({ alertId, until });
      })) as Result<Snoozed, SnoozeRefusal>;
    },
  };
}

export type AcknowledgementService = ReturnType<typeof createAcknowledgementService>;
