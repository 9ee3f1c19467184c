/**
 * Statuses and transitions of campaigns, deployments and batches (DESIGN §1), kept as data so the
 * services, the status read models and the tests all answer "may this happen?" from one place.
 */
import { ok, refused, type Result } from './result.js';

/** `single`: an Email Manager deployment; `multi`: a Campaign Manager campaign of several deployments. */
export type Kind = 'single' | 'multi';
export const KINDS = ['single', 'multi'] as const satisfies readonly Kind[];

/** `draft` = created without a send time: nothing is sent until it is scheduled. */
export const DEPLOYMENT_STATUSES = [
  'draft',
  'scheduled',
  'prefetching',
  'prefetched',
  'sending',
  'paused',
  'completed',
  'cancelled',
] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/**
 * Each status by name, for code that must name one (SQL, renderers): campaigns and batches use the
 * same words, so one map serves all three, and a misspelt status does not compile.
 */
export const STATUS = Object.fromEntries(DEPLOYMENT_STATUSES.map((s) => [s, s])) as { readonly [S in DeploymentStatus]: S };

/** A campaign has no prefetch of its own: it follows its deployments (campaignStatusFromDeployments). */
export const CAMPAIGN_STATUSES = [
  'draft',
  'scheduled',
  'sending',
  'paused',
  'completed',
  'cancelled',
] as const satisfies readonly DeploymentStatus[];
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** `draft`: a batch of a draft deployment, planned but without a send time yet. */
export const BATCH_STATUSES = [
  'draft',
  'scheduled',
  'sending',
  'paused',
  'completed',
  'cancelled',
] as const satisfies readonly DeploymentStatus[];
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/** Cancelled is irreversible and sent is final: nothing leaves these. */
export const TERMINAL_STATUSES = ['completed', 'cancelled'] as const satisfies readonly DeploymentStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

/** What an activity monitor lists; a cancelled or completed deployment leaves the lists (DESIGN §1). */
export const ACTIVE_DEPLOYMENT_STATUSES = [
  'scheduled',
  'prefetching',
  'prefetched',
  'sending',
  'paused',
] as const satisfies readonly DeploymentStatus[];
export type ActiveDeploymentStatus = (typeof ACTIVE_DEPLOYMENT_STATUSES)[number];

export const ACTIONS = [
  'schedule',
  'startPrefetch',
  'finishPrefetch',
  'startSending',
  'complete',
  'pause',
  'resume',
  'cancel',
] as const;
export type Action = (typeof ACTIONS)[number];

/** The status of the unit a responder acts on: the deployment for `single`, the campaign for `multi`. */
export type StatusOf<K extends Kind> = K extends 'single' ? DeploymentStatus : CampaignStatus;
type PerKind = { readonly [K in Kind]: readonly StatusOf<K>[] };

/** DESIGN §1 table. A `multi` cancel cascades to every deployment of the campaign (the service does that). */
export const CANCELLABLE = {
  single: ['scheduled', 'prefetching', 'prefetched', 'sending', 'paused'],
  multi: ['scheduled', 'sending', 'paused'],
} as const satisfies PerKind;

export const PAUSABLE = {
  single: ['scheduled', 'prefetching', 'prefetched', 'sending'],
  multi: ['scheduled', 'sending'],
} as const satisfies PerKind;

export const RESUMABLE = {
  single: ['paused'],
  multi: ['paused'],
} as const satisfies PerKind;

/** A deployment whose audience is still to be prefetched, or being prefetched: its batches wait. */
export const AWAITING_PREFETCH = ['scheduled', 'prefetching'] as const satisfies readonly DeploymentStatus[];

/** A deployment whose batches may start: prefetched (the first one starts it sending), or sending. */
export const MAY_START_BATCHES = ['prefetched', 'sending'] as const satisfies readonly DeploymentStatus[];

/** A batch that has begun sending (and so its deployment's send time came): a resume goes back to sending. */
export const STARTED_BATCH_STATUSES = ['sending', 'completed'] as const satisfies readonly BatchStatus[];

/** Where a paused deployment may go back to; which one is decided by resumeTarget(). */
export const RESUME_TARGETS = ['scheduled', 'prefetched', 'sending'] as const satisfies readonly DeploymentStatus[];
export type ResumeTarget = (typeof RESUME_TARGETS)[number];

/**
 * Every allowed (status, action) → the statuses it may lead to. One target everywhere except
 * paused --resume-->, whose target depends on facts only the caller knows (see resumeTarget).
 * startSending is deliberately absent from `scheduled`: the audience must be prefetched first, so
 * the ledger exists before the first hand-off. prefetched --complete--> covers an empty audience.
 * pause and cancel follow PAUSABLE.single and CANCELLABLE.single (a test holds them equal).
 */
export const DEPLOYMENT_TRANSITIONS: {
  readonly [S in DeploymentStatus]: Readonly<Partial<Record<Action, readonly DeploymentStatus[]>>>;
} = {
  draft: { schedule: ['scheduled'] },
  scheduled: { startPrefetch: ['prefetching'], pause: ['paused'], cancel: ['cancelled'] },
  prefetching: { finishPrefetch: ['prefetched'], pause: ['paused'], cancel: ['cancelled'] },
  prefetched: {
    startSending: ['sending'],
    complete: ['completed'],
    pause: ['paused'],
    cancel: ['cancelled'],
  },
  sending: { complete: ['completed'], pause: ['paused'], cancel: ['cancelled'] },
  paused: { resume: RESUME_TARGETS, cancel: ['cancelled'] },
  completed: {},
  cancelled: {},
};

export interface ResumeFacts {
  /** The ledger rows for the audience exist. */
  readonly prefetched: boolean;
  /** The deployment's send time is now or past. */
  readonly sendAtReached: boolean;
}

/** A resumed deployment goes back to where it would be had it never been paused. */
export function resumeTarget(facts: ResumeFacts): ResumeTarget {
  if (!facts.prefetched) return 'scheduled';
  return facts.sendAtReached ? 'sending' : 'prefetched';
}

/**
 * The status `action` leads to from `status`, or null when the table does not allow it.
 * `resume` needs the facts, so the overloads make forgetting them a compile error.
 */
export function nextDeploymentStatus(
  status: DeploymentStatus,
  action: Exclude<Action, 'resume'>,
): DeploymentStatus | null;
export function nextDeploymentStatus(
  status: DeploymentStatus,
  action: Action,
  facts: ResumeFacts,
): DeploymentStatus | null;
export function nextDeploymentStatus(
  status: DeploymentStatus,
  action: Action,
  facts?: ResumeFacts,
): DeploymentStatus | null {
  const targets = DEPLOYMENT_TRANSITIONS[status][action];
  if (!targets) return null;
  if (action === 'resume' && facts) return resumeTarget(facts);
  return targets[0] ?? null;
}

/** The statuses from which `action` is allowed, in the table's order. */
export function statusesAllowing(action: Action): DeploymentStatus[] {
  return DEPLOYMENT_STATUSES.filter((status) => DEPLOYMENT_TRANSITIONS[status][action] !== undefined);
}

/** Where `action` leads: one status for every action but `resume` (see resumeTarget). */
export function targetOf(action: Exclude<Action, 'resume'>): DeploymentStatus {
  const [target] = DEPLOYMENT_STATUSES.flatMap((status) => DEPLOYMENT_TRANSITIONS[status][action] ?? []);
  return target!;
}

export function isTerminal(status: DeploymentStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

export const LIFECYCLE_REFUSALS = [
  'already_cancelled',
  'already_completed',
  'not_started',
  'not_cancellable',
  'not_paused',
  'already_paused',
  'batch_started',
] as const;
/** `not_cancellable` also covers any action the kind's table does not allow in that status. */
export type LifecycleRefusal = (typeof LIFECYCLE_REFUSALS)[number];

export type LifecycleCheck<S> = Result<{ readonly from: S }, LifecycleRefusal>;

/** Shown to an on-call responder as is: one sentence each, saying what to do or why nothing can be done. */
export const REASONS = {
  already_cancelled: 'It is already cancelled; cancelled is final and it cannot be resumed or restarted.',
  already_completed: 'It has already completed: everything was sent, and sent is final.',
  not_started: 'It is a draft: nothing is scheduled to send.',
  already_paused: 'It is already paused; resume it to continue, or cancel it to stop it for good.',
  batch_started:
    'Only a batch that has not started can be cancelled on its own; cancel the deployment to stop this one.',
} as const satisfies Partial<Record<LifecycleRefusal, string>>;

type Verb = 'cancelled' | 'paused' | 'resumed';

/** Terminal and draft answers are the same whatever was asked, so they are checked first. */
function finalOrDraft(status: string): LifecycleCheck<never> | null {
  if (status === 'cancelled') return refused('already_cancelled', REASONS.already_cancelled);
  if (status === 'completed') return refused('already_completed', REASONS.already_completed);
  if (status === 'draft') return refused('not_started', REASONS.not_started);
  return null;
}

function check<K extends Kind>(
  table: PerKind,
  verb: Verb,
  kind: K,
  status: StatusOf<K>,
): LifecycleCheck<StatusOf<K>> {
  const early = finalOrDraft(status);
  if (early) return early;
  if ((table[kind] as readonly string[]).includes(status)) return ok({ from: status });
  if (verb === 'paused' && status === 'paused') return refused('already_paused', REASONS.already_paused);
  if (verb === 'resumed') {
    return refused('not_paused', `It is ${status}, not paused; only a paused send can be resumed.`);
  }
  return refused('not_cancellable', `It cannot be ${verb} while ${status}.`);
}

export const canCancel = <K extends Kind>(kind: K, status: StatusOf<K>): LifecycleCheck<StatusOf<K>> =>
  check(CANCELLABLE, 'cancelled', kind, status);

export const canPause = <K extends Kind>(kind: K, status: StatusOf<K>): LifecycleCheck<StatusOf<K>> =>
  check(PAUSABLE, 'paused', kind, status);

export const canResume = <K extends Kind>(kind: K, status: StatusOf<K>): LifecycleCheck<StatusOf<K>> =>
  check(RESUMABLE, 'resumed', kind, status);

/** A started batch shares its deployment's ledger and workers, so only the deployment can stop it. */
export function canCancelBatch(status: BatchStatus): LifecycleCheck<BatchStatus> {
  if (status === 'scheduled') return ok({ from: status });
  return finalOrDraft(status) ?? refused('batch_started', REASONS.batch_started);
}

/**
 * A campaign follows its deployments: the most active one decides. Drafts left beside finished
 * deployments keep the campaign a draft, since something is still to be scheduled; a cancel
 * cascade therefore has to cover the campaign's draft deployments too.
 */
export function campaignStatusFromDeployments(statuses: readonly DeploymentStatus[]): CampaignStatus {
  const any = (...wanted: DeploymentStatus[]): boolean => statuses.some((s) => wanted.includes(s));
  if (statuses.length === 0) return 'draft';
  if (any('sending')) return 'sending';
  if (any('paused')) return 'paused';
  if (any('scheduled', 'prefetching', 'prefetched')) return 'scheduled';
  if (any('draft')) return 'draft';
  return statuses.every((s) => s === 'cancelled') ? 'cancelled' : 'completed';
}
