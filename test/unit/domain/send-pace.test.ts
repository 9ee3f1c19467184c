import { describe, expect, it } from 'vitest';
import { sendPace, WAITING_AFTER_MS } from '../../../src/domain/send-pace.js';

describe('sendPace', () => {
  const now = new Date('2026-12-01T09:00:00Z');
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const started = ago(60_000);

  it('a deployment that handed a message over lately is handing over, with its own rate', () => {
    expect(sendPace({ status: 'sending', startedAt: started, lastHandOffAt: ago(300), perSecond: 48 }, now)).toEqual({ state: 'handing-over', lastHandOffAt: ago(300), perSecond: 48 });
  });

  it('one with nothing handed over for a while, or ever, is waiting, and says since when', () => {
    expect(sendPace({ status: 'sending', startedAt: started, lastHandOffAt: ago(WAITING_AFTER_MS + 1), perSecond: 0 }, now)).toEqual({ state: 'waiting', since: ago(WAITING_AFTER_MS + 1), lastHandOffAt: ago(WAITING_AFTER_MS + 1) });
    expect(sendPace({ status: 'sending', startedAt: started, lastHandOffAt: null, perSecond: null }, now)).toEqual({ state: 'waiting', since: started, lastHandOffAt: null });
  });

  it('only a sending deployment has a pace', () => {
    for (const status of ['scheduled', 'paused', 'completed', 'cancelled']) {
      expect(sendPace({ status, startedAt: started, lastHandOffAt: ago(100), perSecond: 10 }, now)).toBeUndefined();
    }
  });
});
