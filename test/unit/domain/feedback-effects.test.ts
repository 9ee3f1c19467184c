import { describe, expect, it } from 'vitest';
import { feedbackEffects, rowKey, type LedgerRow, type LedgerStatus } from '../../../src/domain/feedback-effects.js';
import type { FeedbackEvent } from '../../../src/domain/feedback.js';

const row = (seq: number, status: LedgerStatus, complained = false): LedgerRow => ({ deploymentId: 'dep_a', seq, batchId: 'bat_1', status, complained });
const rows = (...list: LedgerRow[]) => new Map(list.map((r) => [rowKey(r.deploymentId, r.seq), r]));
const ev = (kind: FeedbackEvent['kind'], extra: Partial<FeedbackEvent> = {}): FeedbackEvent => ({ provider: 'ses', eventId: 'x', kind, countsTowardRate: true, ...(kind === 'bounce' ? { bounceClass: 'hard' as const } : {}), ...extra });
const at = (seq: number) => ({ deploymentId: 'dep_a', seq });

describe('feedbackEffects', () => {
  it.each([
    ['hard bounce on sent', 'sent', ev('bounce'), 'counted', 'bounced', { sent: -1, bounced: 1, unknown: 0, complaints: 0 }],
    ['hard bounce on unknown', 'unknown', ev('bounce'), 'counted', 'bounced', { sent: 0, bounced: 1, unknown: -1, complaints: 0 }],
    ['hard bounce on bounced', 'bounced', ev('bounce'), 'recorded', 'bounced', undefined],
    ['hard bounce on failed (never accepted)', 'failed', ev('bounce'), 'recorded', 'failed', undefined],
    ['soft bounce on sent', 'sent', ev('bounce', { bounceClass: 'soft' }), 'recorded', 'sent', undefined],
    ['suppression-list bounce on sent', 'sent', ev('bounce', { countsTowardRate: false }), 'recorded', 'sent', undefined],
    ['delivery on unknown', 'unknown', ev('delivery'), 'counted', 'sent', { sent: 1, bounced: 0, unknown: -1, complaints: 0 }],
    ['delivery on sent', 'sent', ev('delivery'), 'recorded', 'sent', undefined],
    ['delivery on bounced', 'bounced', ev('delivery'), 'recorded', 'bounced', undefined],
    ['deferral on sent', 'sent', ev('deferral'), 'recorded', 'sent', undefined],
    ['any event on a claimed row (send not recorded yet)', 'claimed', ev('bounce'), 'orphan', 'claimed', undefined],
    ['complaint on sent', 'sent', ev('complaint'), 'counted', 'sent', { sent: 0, bounced: 0, unknown: 0, complaints: 1 }],
  ] as const)('%s', (_label, status, event, disposition, finalStatus, delta) => {
    const effects = feedbackEffects([event], [at(1)], rows(row(1, status)));
    expect(effects.dispositions).toEqual([disposition]);
    expect(effects.rows.map((r) => r.status)).toEqual(disposition === 'counted' ? [finalStatus] : []);
    expect(effects.deployments.get('dep_a')).toEqual(delta);
    if (delta) expect(effects.batches.get('bat_1')).toEqual({ ...delta, deploymentId: 'dep_a' });
  });

  it('a second complaint for the same recipient is recorded only', () => {
    const effects = feedbackEffects([ev('complaint')], [at(1)], rows(row(1, 'sent', true)));
    expect(effects.dispositions).toEqual(['recorded']);
  });

  it('events without a target or a row are orphans; opens and clicks are ignored', () => {
    const effects = feedbackEffects([ev('bounce'), ev('bounce'), ev('other')], [undefined, at(99), at(1)], rows(row(1, 'sent')));
    expect(effects.dispositions).toEqual(['orphan', 'orphan', 'ignored']);
  });

  it('applies events in order within one batch: delivery, bounce, bounce again → counted once', () => {
    const effects = feedbackEffects([ev('delivery'), ev('bounce', { detail: 'smtp; 550' }), ev('bounce')], [at(1), at(1), at(1)], rows(row(1, 'unknown')));
    expect(effects.dispositions).toEqual(['counted', 'counted', 'recorded']);
    expect(effects.rows).toEqual([{ deploymentId: 'dep_a', seq: 1, status: 'bounced', complained: false, detail: 'smtp; 550' }]);
    expect(effects.deployments.get('dep_a')).toEqual({ sent: 0, bounced: 1, unknown: -1, complaints: 0 });
  });
});
