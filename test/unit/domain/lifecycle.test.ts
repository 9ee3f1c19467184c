import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  ACTIVE_DEPLOYMENT_STATUSES,
  AWAITING_PREFETCH,
  MAY_START_BATCHES,
  BATCH_STATUSES,
  CAMPAIGN_STATUSES,
  CANCELLABLE,
  DEPLOYMENT_STATUSES,
  DEPLOYMENT_TRANSITIONS,
  KINDS,
  PAUSABLE,
  RESUME_TARGETS,
  TERMINAL_STATUSES,
  campaignStatusFromDeployments,
  canCancel,
  canCancelBatch,
  canPause,
  canResume,
  isTerminal,
  nextDeploymentStatus,
  resumeTarget,
  statusesAllowing,
  STATUS,
  targetOf,
  type Action,
  type BatchStatus,
  type CampaignStatus,
  type DeploymentStatus,
  type Kind,
  type LifecycleRefusal,
} from '../../../src/domain/lifecycle.js';

type Verb = 'cancel' | 'pause' | 'resume';
type Expected = 'ok' | LifecycleRefusal;
type Row = readonly [Kind, DeploymentStatus, Verb, Expected];

const checks = { cancel: canCancel, pause: canPause, resume: canResume } as const;
const SENTENCE = /^[A-Z][^\n]{10,}\.$/;

/** Written out in full on purpose: this is the DESIGN §1 table, not a re-derivation of it. */
const RESPONDER_TABLE: readonly Row[] = [
  ['single', 'draft', 'cancel', 'not_started'],
  ['single', 'draft', 'pause', 'not_started'],
  ['single', 'draft', 'resume', 'not_started'],
  ['single', 'scheduled', 'cancel', 'ok'],
  ['single', 'scheduled', 'pause', 'ok'],
  ['single', 'scheduled', 'resume', 'not_paused'],
  ['single', 'prefetching', 'cancel', 'ok'],
  ['single', 'prefetching', 'pause', 'ok'],
  ['single', 'prefetching', 'resume', 'not_paused'],
  ['single', 'prefetched', 'cancel', 'ok'],
  ['single', 'prefetched', 'pause', 'ok'],
  ['single', 'prefetched', 'resume', 'not_paused'],
  ['single', 'sending', 'cancel', 'ok'],
  ['single', 'sending', 'pause', 'ok'],
  ['single', 'sending', 'resume', 'not_paused'],
  ['single', 'paused', 'cancel', 'ok'],
  ['single', 'paused', 'pause', 'already_paused'],
  ['single', 'paused', 'resume', 'ok'],
  ['single', 'completed', 'cancel', 'already_completed'],
  ['single', 'completed', 'pause', 'already_completed'],
  ['single', 'completed', 'resume', 'already_completed'],
  ['single', 'cancelled', 'cancel', 'already_cancelled'],
  ['single', 'cancelled', 'pause', 'already_cancelled'],
  ['single', 'cancelled', 'resume', 'already_cancelled'],
  ['multi', 'draft', 'cancel', 'not_started'],
  ['multi', 'draft', 'pause', 'not_started'],
  ['multi', 'draft', 'resume', 'not_started'],
  ['multi', 'scheduled', 'cancel', 'ok'],
  ['multi', 'scheduled', 'pause', 'ok'],
  ['multi', 'scheduled', 'resume', 'not_paused'],
  ['multi', 'sending', 'cancel', 'ok'],
  ['multi', 'sending', 'pause', 'ok'],
  ['multi', 'sending', 'resume', 'not_paused'],
  ['multi', 'paused', 'cancel', 'ok'],
  ['multi', 'paused', 'pause', 'already_paused'],
  ['multi', 'paused', 'resume', 'ok'],
  ['multi', 'completed', 'cancel', 'already_completed'],
  ['multi', 'completed', 'pause', 'already_completed'],
  ['multi', 'completed', 'resume', 'already_completed'],
  ['multi', 'cancelled', 'cancel', 'already_cancelled'],
  ['multi', 'cancelled', 'pause', 'already_cancelled'],
  ['multi', 'cancelled', 'resume', 'already_cancelled'],
];

const statusesOf = (kind: Kind): readonly DeploymentStatus[] =>
  kind === 'single' ? DEPLOYMENT_STATUSES : CAMPAIGN_STATUSES;

function run(kind: Kind, status: DeploymentStatus, verb: Verb) {
  // The rows only pair `multi` with campaign statuses; the cast just bridges the row's wide type.
  return checks[verb](kind, status as CampaignStatus);
}

describe('cancel / pause / resume for a responder', () => {
  it('the table covers every (kind, status, action) exactly once', () => {
    const expected = KINDS.flatMap((k) =>
      statusesOf(k).flatMap((s) => (['cancel', 'pause', 'resume'] as const).map((v) => `${k}/${s}/${v}`)),
    );
    const keys = RESPONDER_TABLE.map(([k, s, v]) => `${k}/${s}/${v}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual([...expected].sort());
  });

  it.each(RESPONDER_TABLE)('%s %s: %s → %s', (kind, status, verb, expected) => {
    const result = run(kind, status, verb);
    if (expected === 'ok') {
      expect(result).toEqual({ ok: true, value: { from: status } });
      return;
    }
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe(expected);
    expect(result.reason).toMatch(SENTENCE);
  });

  it('says cancelled is final and sent is final, whatever was asked', () => {
    for (const kind of KINDS) {
      for (const verb of ['cancel', 'pause', 'resume'] as const) {
        const cancelled = run(kind, 'cancelled', verb);
        const completed = run(kind, 'completed', verb);
        expect(!cancelled.ok && cancelled.reason).toContain('cancelled is final');
        expect(!completed.ok && completed.reason).toContain('sent is final');
      }
    }
  });

  it('the cancellable sets are those of DESIGN §1', () => {
    expect(CANCELLABLE.single).toEqual(['scheduled', 'prefetching', 'prefetched', 'sending', 'paused']);
    expect(CANCELLABLE.multi).toEqual(['scheduled', 'sending', 'paused']);
  });

  it('refuses an action outside the kind table even for a status the type does not allow', () => {
    const result = canCancel('multi', 'prefetching' as CampaignStatus);
    expect(result).toMatchObject({ ok: false, code: 'not_cancellable' });
    expect(!result.ok && result.reason).toMatch(SENTENCE);
  });
});

describe('cancelling a batch on its own', () => {
  const rows: readonly (readonly [BatchStatus, Expected])[] = [
    ['draft', 'not_started'],
    ['scheduled', 'ok'],
    ['sending', 'batch_started'],
    ['paused', 'batch_started'],
    ['completed', 'already_completed'],
    ['cancelled', 'already_cancelled'],
  ];

  it('covers every batch status', () => {
    expect(rows.map(([s]) => s).sort()).toEqual([...BATCH_STATUSES].sort());
  });

  it.each(rows)('%s → %s', (status, expected) => {
    const result = canCancelBatch(status);
    if (expected === 'ok') {
      expect(result).toEqual({ ok: true, value: { from: status } });
      return;
    }
    expect(result).toMatchObject({ ok: false, code: expected });
    expect(!result.ok && result.reason).toMatch(SENTENCE);
  });

  it('tells the responder to cancel the deployment when the batch has started', () => {
    const result = canCancelBatch('sending');
    expect(!result.ok && result.reason).toContain('cancel the deployment');
  });
});

describe('deployment transitions', () => {
  const facts = { prefetched: true, sendAtReached: true } as const;
  const VALID: readonly (readonly [DeploymentStatus, Action, DeploymentStatus])[] = [
    ['draft', 'schedule', 'scheduled'],
    ['scheduled', 'startPrefetch', 'prefetching'],
    ['scheduled', 'pause', 'paused'],
    ['scheduled', 'cancel', 'cancelled'],
    ['prefetching', 'finishPrefetch', 'prefetched'],
    ['prefetching', 'pause', 'paused'],
    ['prefetching', 'cancel', 'cancelled'],
    ['prefetched', 'startSending', 'sending'],
    ['prefetched', 'complete', 'completed'],
    ['prefetched', 'pause', 'paused'],
    ['prefetched', 'cancel', 'cancelled'],
    ['sending', 'complete', 'completed'],
    ['sending', 'pause', 'paused'],
    ['sending', 'cancel', 'cancelled'],
    ['paused', 'resume', resumeTarget(facts)],
    ['paused', 'cancel', 'cancelled'],
  ];
  const valid = new Map(VALID.map(([s, a, t]) => [`${s}/${a}`, t]));
  const ALL = DEPLOYMENT_STATUSES.flatMap((s) => ACTIONS.map((a) => [s, a] as const));

  it.each(ALL)('%s --%s-->', (status, action) => {
    expect(nextDeploymentStatus(status, action, facts)).toBe(valid.get(`${status}/${action}`) ?? null);
  });

  it('never sends straight from scheduled: the audience is prefetched first', () => {
    expect(nextDeploymentStatus('scheduled', 'startSending')).toBeNull();
  });

  it('resume follows resumeTarget and only leads to a resume target', () => {
    expect(DEPLOYMENT_TRANSITIONS.paused.resume).toEqual(RESUME_TARGETS);
    for (const prefetched of [false, true]) {
      for (const sendAtReached of [false, true]) {
        const f = { prefetched, sendAtReached };
        expect(nextDeploymentStatus('paused', 'resume', f)).toBe(resumeTarget(f));
        expect(RESUME_TARGETS).toContain(resumeTarget(f));
      }
    }
  });

  it('pause and cancel transitions match the responder tables for a single deployment', () => {
    const from = (action: Action) => DEPLOYMENT_STATUSES.filter((s) => DEPLOYMENT_TRANSITIONS[s][action]);
    expect(from('cancel')).toEqual(CANCELLABLE.single);
    expect(from('pause')).toEqual(PAUSABLE.single);
    expect(statusesAllowing('cancel')).toEqual(CANCELLABLE.single);
    expect(statusesAllowing('pause')).toEqual(PAUSABLE.single);
    expect(statusesAllowing('startSending')).toEqual(['prefetched']);
  });

  it('a deployment awaits prefetch until it is prefetched, and its batches start once it is', () => {
    expect(AWAITING_PREFETCH).toEqual([...statusesAllowing('startPrefetch'), targetOf('startPrefetch')]);
    expect(MAY_START_BATCHES).toEqual([...statusesAllowing('startSending'), targetOf('startSending')]);
  });

  it('targetOf names the one status each action but resume leads to', () => {
    expect(targetOf('startPrefetch')).toBe('prefetching');
    expect(targetOf('finishPrefetch')).toBe('prefetched');
    expect(targetOf('startSending')).toBe('sending');
    expect(targetOf('complete')).toBe('completed');
    expect(targetOf('pause')).toBe('paused');
    expect(targetOf('cancel')).toBe('cancelled');
  });
});

describe('statuses by name', () => {
  it('STATUS names every deployment status, each as itself', () => {
    expect(Object.values(STATUS)).toEqual([...DEPLOYMENT_STATUSES]);
    for (const [name, status] of Object.entries(STATUS)) expect(status).toBe(name);
  });

  it('campaign and batch statuses are deployment statuses; a batch may be a draft like its deployment', () => {
    for (const s of [...CAMPAIGN_STATUSES, ...BATCH_STATUSES]) expect(DEPLOYMENT_STATUSES).toContain(s);
    expect(BATCH_STATUSES).toContain('draft');
  });
});

describe('terminal statuses', () => {
  it('are completed and cancelled only', () => {
    expect(DEPLOYMENT_STATUSES.filter(isTerminal)).toEqual(['completed', 'cancelled']);
    expect(TERMINAL_STATUSES).toEqual(['completed', 'cancelled']);
  });

  it.each(TERMINAL_STATUSES)('%s accepts no action at all', (status) => {
    for (const action of ACTIONS) {
      expect(nextDeploymentStatus(status, action, { prefetched: true, sendAtReached: true })).toBeNull();
    }
    expect(DEPLOYMENT_TRANSITIONS[status]).toEqual({});
    for (const kind of KINDS) {
      expect(canCancel(kind, status).ok).toBe(false);
      expect(canPause(kind, status).ok).toBe(false);
      expect(canResume(kind, status).ok).toBe(false);
    }
    expect(canCancelBatch(status).ok).toBe(false);
  });

  it('active statuses are what the monitor lists: neither draft nor terminal', () => {
    expect(ACTIVE_DEPLOYMENT_STATUSES).toEqual(['scheduled', 'prefetching', 'prefetched', 'sending', 'paused']);
    expect(DEPLOYMENT_STATUSES.filter((s) => s !== 'draft' && !isTerminal(s))).toEqual([
      ...ACTIVE_DEPLOYMENT_STATUSES,
    ]);
  });
});

describe('resumeTarget', () => {
  it.each([
    [false, false, 'scheduled'],
    [false, true, 'scheduled'],
    [true, false, 'prefetched'],
    [true, true, 'sending'],
  ] as const)('prefetched=%s sendAtReached=%s → %s', (prefetched, sendAtReached, expected) => {
    expect(resumeTarget({ prefetched, sendAtReached })).toBe(expected);
  });
});

describe('campaignStatusFromDeployments', () => {
  it.each([
    [[], 'draft'],
    [['draft'], 'draft'],
    [['draft', 'draft'], 'draft'],
    [['sending', 'paused', 'scheduled', 'completed'], 'sending'],
    [['paused', 'prefetching', 'cancelled'], 'paused'],
    [['scheduled', 'draft'], 'scheduled'],
    [['prefetching', 'completed'], 'scheduled'],
    [['prefetched', 'cancelled'], 'scheduled'],
    [['draft', 'completed'], 'draft'],
    [['cancelled'], 'cancelled'],
    [['cancelled', 'cancelled'], 'cancelled'],
    [['completed', 'completed'], 'completed'],
    [['completed', 'cancelled'], 'completed'],
  ] as const satisfies readonly (readonly [readonly DeploymentStatus[], CampaignStatus])[])(
    '%j → %s',
    (statuses, expected) => {
      expect(campaignStatusFromDeployments(statuses)).toBe(expected);
    },
  );
});
