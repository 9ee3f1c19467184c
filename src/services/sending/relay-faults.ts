import { RELAY_FAULT_OPEN } from '../../domain/relay-fault-states.js';
import type { ControlOutcome } from '../../domain/cancel-outcome.js';
import type { DatabaseHandle } from '../../db/client.js';
import { closeRelayFault, recordRelayFault, relayFaultById, sendingDeploymentIds } from '../../db/queries/relay-faults.js';
import { enqueueRelayFaultMessage } from '../../db/queries/slack-outbox.js';
import { newId } from '../../lib/ids.js';
import type { Logger } from '../../lib/logger.js';
import { SYSTEM_ACTOR } from '../alerts/monitor.js';
import type { createPauseResume } from './pause-resume.js';

/**
 * What a persistent relay fault does, and its Resume. Pausing: every deployment that is sending
 * is paused by Campaign Guard (reversible, audited), and the fault is recorded with one Slack
 * alert naming the cause, in the same transaction; a second worker pausing for the same fault
 * adds to the open record and edits the alert. Resume (a responder, after fixing the relay)
 * resumes what the fault paused and is still paused by it, and closes the record; a relay still
 * failing pauses them again, with a new alert.
 */

export interface RelayFaultPause {
  faultId: string;
  deploymentIds: string[];
  /** False when an open fault took these deployments in (its alert is edited, not posted again). */
  opened: boolean;
}

export function createRelayFaults(deps: { database: DatabaseHandle; pauseResume: Pick<ReturnType<typeof createPauseResume>, 'pause' | 'resume'>; logger: Logger }) {
  const { sql } = deps.database;
  const log = deps.logger.child({ component: 'relay-faults' });

  return {
    /** Pauses every sending deployment for a relay fault that persists; undefined when nothing was sending. */
    async pauseSending(cause: string): Promise<RelayFaultPause | undefined> {
      const sending = await sendingDeploymentIds(sql);
      let recorded: { id: string; opened: boolean } | undefined;
      const outcome = await deps.pauseResume.pause({ deploymentIds: sending }, SYSTEM_ACTOR, {
        within: async (tx, ids) => {
          recorded = await recordRelayFault(tx, newId('relayFault'), cause, ids);
          const change = recorded.opened ? 'opened' : 'paused';
          await enqueueRelayFaultMessage(tx, recorded.id, change);
          return { targetType: 'relayFault', targetId: recorded.id };
        },
      });
      if (!outcome.ok || !recorded) {
        log.warn({ cause }, 'the SMTP relay keeps failing, and no deployment is sending to pause');
        return undefined;
      }
      const paused = { faultId: recorded.id, deploymentIds: outcome.value.deploymentIds, opened: recorded.opened };
      log.warn(
        { ...paused, cause },
        `SMTP relay fault: paused ${paused.deploymentIds.length} sending deployment(s); no recipient was marked failed. Cause: ${cause}. ` +
          `Fix the relay, then resume with the alert's Resume button or \`campaign-guard resume ${paused.faultId} --actor <you>\`.`,
      );
      return paused;
    },

    /** Resumes what the fault paused (and is still paused by it), and closes the fault. */
    async resume(faultId: string, actor: string): Promise<ControlOutcome> {
      const fault = await relayFaultById(sql, faultId);
      if (!fault) return { outcome: 'not_found', target: faultId };
      if (fault.state !== RELAY_FAULT_OPEN) return alreadyResumed(faultId, fault.resumed_by, fault.resumed_at);
      let closed = false;
      const close = async (tx: Parameters<typeof closeRelayFault>[0]) => {
        closed = Boolean(await closeRelayFault(tx, faultId, actor));
        if (closed) await enqueueRelayFaultMessage(tx, faultId, 'resumed');
      };
      const outcome = await deps.pauseResume.resume({ deploymentIds: fault.deployment_ids, pausedBy: SYSTEM_ACTOR }, actor, {
        within: async (tx) => {
          await close(tx);
          // Someone resumed this fault first: roll back, so their resume is the only one.
          if (!closed) throw new FaultAlreadyResumed();
          return { targetType: 'relayFault', targetId: faultId };
        },
      }).catch((error: unknown) => {
        if (error instanceof FaultAlreadyResumed) return undefined;
        throw error;
      });
      if (outcome?.ok) {
        log.info({ faultId, actor, deploymentIds: outcome.value.deploymentIds }, 'relay fault resumed');
        return { outcome: 'resumed', target: faultId, deploymentIds: outcome.value.deploymentIds, relayFault: true };
      }
      // Nothing it paused is still paused by it (resumed or cancelled one by one): the fault is closed all the same.
      if (outcome) await sql.begin((tx) => close(tx));
      if (!closed) {
        const now = await relayFaultById(sql, faultId);
        return alreadyResumed(faultId, now?.resumed_by ?? null, now?.resumed_at ?? null);
      }
      return { outcome: 'resumed', target: faultId, deploymentIds: [], relayFault: true };
    },
  };
}

class FaultAlreadyResumed extends Error {}

const alreadyResumed = (target: string, by: string | null, at: Date | null): ControlOutcome => ({
  outcome: 'not_allowed',
  target,
  status: 'resumed',
  why: `it was already resumed by ${by ?? 'someone'}${at ? ` at ${new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z')}` : ''}.`,
});

export type RelayFaults = ReturnType<typeof createRelayFaults>;
