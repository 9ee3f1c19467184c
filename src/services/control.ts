import { addCounts, countsAtCommit, describeOutcome, type ControlOutcome } from '../domain/cancel-outcome.js';
import { canCancel, canCancelBatch, isTerminal, STATUS, type BatchStatus, type CampaignStatus, type DeploymentStatus } from '../domain/lifecycle.js';
import type { DatabaseHandle, SqlExecutor } from '../db/client.js';
import { cancelBatchRow, deploymentOfBatch, whoCancelled, cancelCampaignRow, cancelDeployments, lockBatch, markLedgerCancelled, reportSettledCancel } from '../db/queries/cancellation.js';
import { lockCampaign, lockDeployments, type LockedDeployment } from '../db/queries/deployment-locks.js';
import { auditByRequestKey, recordDone, recordRefusal } from '../db/queries/audit.js';
import { operatorRole } from '../db/queries/operators.js';
import { enqueuePagerFollowUp } from '../db/queries/pager-outbox.js';
import { enqueueAlertEdits, enqueueCancelConfirmation } from '../db/queries/slack-outbox.js';
import { CONTROL_ROLES_IN_WORDS, mayControl } from '../domain/roles.js';
import { ID_PATTERN, idKind } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';
import type { StopAnnouncer } from './ports.js';
import { closeFinishedWork } from './sending/completion.js';
import type { createPauseResume } from './sending/pause-resume.js';
import type { RelayFaults } from './sending/relay-faults.js';

/**
 * The control service: what a responder or operator does to a send (cancel, pause, resume), each
 * behind the same permission check and audit. Pause and resume go to the pause-resume service
 * (a relay fault's resume to relay-faults); cancel is done here.
 *
 * The irreversible cancel. One transaction: permission from the operators table, the rows locked
 * (deployments first, as every ledger writer does), a conditional status change that a racing
 * cancel loses (and is told who won), the cascade, the books (O(1): "never sent" is arithmetic on
 * the counters), the audit row with the request key, the Slack outbox row. After the commit, the
 * stop announcement; then the ledger's pending rows are marked in bounded ranges. No queue is
 * drained or cleaned: leftover jobs find nothing to claim.
 */
export interface ControlRequest {
  /** cmp_…, dep_… or bat_… */
  target: string;
  actor: string;
  reason?: string | null;
  /** Makes a retried request (a double click, a resent Slack action) return the first outcome. */
  requestKey?: string;
  /**
   * The caller answers within `afterMs` (Slack waits 3 s) and aborts `signal` when it answered
   * "cannot cancel right now": no statement waits longer than that, and a cancel the caller gave up
   * on rolls back instead of committing later behind the responder's back.
   */
  giveUp?: { afterMs: number; signal: AbortSignal };
}

/**
 * A reason is kept as one line of at most 500 characters (code points) before it reaches the
 * audit log, the logs or Slack: control characters (C0, DEL, C1), line and paragraph separators
 * and bidi controls become one space, so a typed reason cannot forge a log line or reorder what a
 * reader sees. Slack output escapes it on top.
 */
export const MAX_REASON = 500;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;

export function cleanReason(raw: string | null | undefined): string | null {
  if (!raw) return null;
  return Array.from(raw.replace(CONTROL_CHARS, ' ').replace(/\p{Cs}/gu, '\uFFFD').trim()).slice(0, MAX_REASON).join('').trim() || null;
}

const counterCounts = (d: LockedDeployment) =>
  countsAtCommit({ total: d.total_count, inFlight: d.in_flight_count, sent: d.sent_count, bounced: d.bounced_count, failed: d.failed_count, unknown: d.unknown_count, cancelled: d.cancelled_count });

const reviveDates = (o: ControlOutcome): ControlOutcome => {
  const copy = { ...o } as Record<string, unknown>;
  if (typeof copy.at === 'string') copy.at = new Date(copy.at);
  return copy as ControlOutcome;
};

export function createControlService(deps: {
  database: DatabaseHandle;
  announcer: StopAnnouncer;
  pauseResume: ReturnType<typeof createPauseResume>;
  /** Resume of a relay fault (rly_…): what it paused. */
  relayFaults?: Pick<RelayFaults, 'resume'>;
  logger: Logger;
}) {
  const { sql } = deps.database;
  const background = new Set<Promise<void>>();

  async function permitted(tx: SqlExecutor, actor: string, target: string, action: string): Promise<ControlOutcome | undefined> {
    // On the transaction's own connection: a second one per cancel could exhaust the pool.
    const role = await operatorRole(tx, actor);
    if (mayControl(role)) return undefined;
    const why = role ? `${actor} is a ${role}; only ${CONTROL_ROLES_IN_WORDS} may ${action}.` : `${actor} has no access; ask an admin for the responder role.`;
    await recordRefusal(tx, { actor, action, target, why });
    return { outcome: 'not_permitted', target, why };
  }

  async function cancelInTransaction(tx: SqlExecutor, request: ControlRequest, reason: string | null): Promise<{ outcome: ControlOutcome; stopped: string[]; batch?: { id: string; deploymentId: string } }> {
    const { target, actor } = request;
    const kind = ID_PATTERN.test(target) ? idKind(target) : undefined;
    if (kind !== 'campaign' && kind !== 'deployment' && kind !== 'batch') return { outcome: { outcome: 'not_found', target }, stopped: [] };

    // Lock order: deployments, then the campaign (as pause and the send path do).
    let deployments: LockedDeployment[];
    let batch: Awaited<ReturnType<typeof lockBatch>>;
    if (kind === 'batch') {
      const deploymentId = await deploymentOfBatch(tx, target);
      if (!deploymentId) return { outcome: { outcome: 'not_found', target }, stopped: [] };
      deployments = await lockDeployments(tx, { deploymentId });
      batch = await lockBatch(tx, target);
    } else if (kind === 'deployment') {
      deployments = await lockDeployments(tx, { deploymentId: target });
    } else {
      deployments = await lockDeployments(tx, { campaignId: target });
    }
    if (deployments.length === 0) return { outcome: { outcome: 'not_found', target }, stopped: [] };
    const campaign = (await lockCampaign(tx, deployments[0]!.campaign_id))!;

    if (request.requestKey) {
      const replay = await auditByRequestKey(tx, request.requestKey);
      if (replay?.details.outcome) return { outcome: reviveDates(replay.details.outcome as ControlOutcome), stopped: [] };
    }
    const refusal = await permitted(tx, actor, target, 'cancel');
    if (refusal) return { outcome: refusal, stopped: [] };

    // What is being cancelled, and may it be?
    let unit: { status: string; by: string | null; at: string | null };
    let check;
    if (kind === 'batch') {
      unit = { status: batch!.status, by: batch!.cancelled_by, at: batch!.cancelled_at };
      check = canCancelBatch(batch!.status as BatchStatus);
    } else if (campaign.kind === 'multi' && kind === 'campaign') {
      unit = { status: campaign.status, by: campaign.cancelled_by, at: campaign.cancelled_at };
      check = canCancel('multi', campaign.status as CampaignStatus);
    } else if (campaign.kind === 'multi') {
      return { outcome: { outcome: 'not_allowed', target, status: deployments[0]!.status, why: `a deployment of a multi campaign is cancelled with its campaign (${campaign.id}).` }, stopped: [] };
    } else {
      const d = deployments[0]!;
      unit = { status: d.status, by: d.cancelled_by, at: d.cancelled_at };
      check = canCancel('single', d.status as DeploymentStatus);
    }
    const counts = addCounts(deployments.map(counterCounts));
    if (!check.ok) {
      if (check.code === 'already_cancelled') return { outcome: { outcome: 'already_cancelled', target, by: unit.by, at: unit.at ? new Date(unit.at) : null }, stopped: [] };
      if (check.code === 'already_completed') return { outcome: { outcome: 'already_completed', target, counts }, stopped: [] };
      return { outcome: { outcome: 'not_allowed', target, status: unit.status, why: check.reason }, stopped: [] };
    }

    const lockOverride = campaign.locked_by && campaign.locked_by !== actor ? { holder: campaign.locked_by, since: campaign.locked_at ? new Date(campaign.locked_at) : null } : undefined;
    let outcome: ControlOutcome;
    let stopped: string[] = [];
    let batchDone: { id: string; deploymentId: string } | undefined;
    if (kind === 'batch') {
      const neverSent = await cancelBatchRow(tx, target, batch!.deployment_id, actor);
      outcome = { outcome: 'cancelled', target, deploymentIds: [], counts: { contacted: 0, inFlight: 0, neverSent }, at: new Date(), ...(lockOverride ? { lockOverride } : {}) };
      batchDone = { id: target, deploymentId: batch!.deployment_id };
    } else {
      const live = deployments.filter((d) => !isTerminal(d.status as DeploymentStatus));
      const liveCounts = addCounts(live.map(counterCounts));
      // Everything left already on the wire: nothing to stop; it completes (DESIGN §1).
      if (liveCounts.neverSent === 0 && live.every((d) => d.status === STATUS.sending)) {
        return { outcome: { outcome: 'nothing_left', target, counts }, stopped: [] };
      }
      stopped = live.map((d) => d.id);
      await cancelDeployments(tx, stopped, actor, reason);
      await cancelCampaignRow(tx, campaign.id, actor, reason);
      outcome = { outcome: 'cancelled', target, deploymentIds: stopped, counts, at: new Date(), ...(lockOverride ? { lockOverride } : {}) };
    }

    await recordDone(tx, { actor, action: 'cancel', targetType: kind, targetId: target, reason, details: { outcome, lockOverride: lockOverride ?? null, counts }, requestKey: request.requestKey ?? null });
    // Slack, in this transaction: every alert message of what stopped is edited (buttons gone),
    // the confirmation goes to each alert's thread (or the alert channel), then the settled
    // counts of deployments with nothing in flight. The notifier sends them in this order.
    await enqueueAlertEdits(tx, stopped, 'cancelled');
    // A pager paged for an alert of what stopped is told it is over.
    await enqueuePagerFollowUp(tx, { deploymentIds: stopped }, 'resolve');
    await enqueueCancelConfirmation(tx, batchDone ? [batchDone.deploymentId] : stopped, target, {
      type: 'cancel_confirmation', campaignId: campaign.id, campaignName: campaign.name, target, actor, reason, outcome, text: describeOutcome(outcome),
    });
    for (const id of stopped) await reportSettledCancel(tx, id);
    return { outcome, stopped, batch: batchDone };
  }

  /** Marks the cancelled ledger rows, a bounded range at a time; errors are logged, never thrown. */
  async function markLedger(deploymentIds: string[], batch?: { id: string; deploymentId: string }) {
    try {
      if (batch) {
        await markLedgerCancelled(sql, batch.deploymentId, batch.id);
        await sql.begin((tx) => closeFinishedWork(tx, batch));
      }
      for (const id of deploymentIds) await markLedgerCancelled(sql, id, null);
    } catch (error) {
      deps.logger.warn({ err: error, deploymentIds }, 'could not mark cancelled ledger rows yet; the worker sweep will');
    }
  }

  return {
    async cancel(request: ControlRequest): Promise<ControlOutcome> {
      const reason = cleanReason(request.reason);
      const { outcome, stopped, batch } = await sql.begin(async (tx) => {
        const { giveUp } = request;
        if (giveUp) await tx`select set_config('statement_timeout', ${String(giveUp.afterMs)}, true)`;
        const result = await cancelInTransaction(tx, request, reason);
        // The caller already said nothing was cancelled: roll back. (A COMMIT already on its way when
        // the caller gives up still lands; the confirmation in the alert's thread then tells.)
        giveUp?.signal.throwIfAborted();
        return result;
      });
      if (stopped.length > 0) await deps.announcer.announce(stopped, 'cancelled');
      if (stopped.length > 0 || batch) {
        const marking = markLedger(stopped, batch).finally(() => background.delete(marking));
        background.add(marking);
      }
      return outcome;
    },

    /** Resolves when the ledger marking that follows earlier cancels is done (tests, benchmarks, shutdown). */
    async idle(): Promise<void> {
      await Promise.all([...background]);
    },

    async pause(request: ControlRequest): Promise<ControlOutcome> {
      return control(request, 'pause');
    },

    async resume(request: ControlRequest): Promise<ControlOutcome> {
      return control(request, 'resume');
    },
  };

  async function control(request: ControlRequest, action: 'pause' | 'resume'): Promise<ControlOutcome> {
    const { target, actor } = request;
    const kind = ID_PATTERN.test(target) ? idKind(target) : undefined;
    const relayFault = kind === 'relayFault' && action === 'resume' && deps.relayFaults;
    if (kind !== 'campaign' && kind !== 'deployment' && !relayFault) return { outcome: 'not_found', target };
    const refusal = await sql.begin((tx) => permitted(tx, actor, target, action));
    if (refusal) return refusal;
    if (relayFault) return relayFault.resume(target, actor);
    const scope = kind === 'campaign' ? { campaignId: target } : { deploymentId: target };
    const result = action === 'pause' ? await deps.pauseResume.pause(scope, actor, { requestKey: request.requestKey }) : await deps.pauseResume.resume(scope, actor, { requestKey: request.requestKey });
    if (result.ok) return { outcome: action === 'pause' ? 'paused' : 'resumed', target, deploymentIds: result.value.deploymentIds };
    if (result.code === 'not_found') return { outcome: 'not_found', target };
    if (result.code === 'already_cancelled') {
      const row = await whoCancelled(sql, target);
      return { outcome: 'already_cancelled', target, by: row?.cancelled_by ?? null, at: row?.cancelled_at ? new Date(row.cancelled_at) : null };
    }
    return { outcome: 'not_allowed', target, status: result.code, why: result.reason };
  }
}

export type ControlService = ReturnType<typeof createControlService>;
