import { describe, expect, it } from 'vitest';
import { channelVerdict } from '../../../src/slack/channels.js';

/** Where commands and clicks are accepted (DESIGN §5; README "Slack app"). */
const ALERTS = 'C0ALERTS01';
const INCIDENTS = 'G0INCIDNT1';

describe('channelVerdict', () => {
  it('C9 I8: only the listed channels when a list is configured; DMs, group DMs, other and shared channels are refused, naming where it works', () => {
    const allowed = [ALERTS, INCIDENTS];
    expect(channelVerdict({ channel: ALERTS, name: 'campaign-alerts' }, allowed)).toEqual({ ok: true });
    expect(channelVerdict({ channel: INCIDENTS, name: 'privategroup' }, allowed)).toEqual({ ok: true });
    const refusals = [
      [{ channel: 'D0DMALICE1', name: 'directmessage' }, 'a direct message'],
      [{ channel: 'C0DMALICE1', name: 'directmessage' }, 'a direct message'],
      [{ channel: 'G0GROUPDM1', name: 'mpdm-alice--bob-1' }, 'a group direct message'],
      [{ channel: 'C0RANDOM01', name: 'random' }, 'a channel not on the list'],
      [{ channel: 'C0SHARED01', name: 'acme-partner-shared' }, 'a channel not on the list'],
    ] as const;
    for (const [place, why] of refusals) {
      expect(channelVerdict(place, allowed)).toEqual({
        ok: false,
        why: `${place.channel} is ${why}`,
        text: `:no_entry: Campaign Guard is not allowed here (this is ${why}), so nothing was changed. It works in <#${ALERTS}>, <#${INCIDENTS}>.`,
      });
    }
  });

  it('C9 I8: App Home and our own modals have no channel and stay allowed (identity and role still gate them)', () => {
    for (const surface of ['home', 'modal'] as const) expect(channelVerdict({ surface }, [ALERTS])).toEqual({ ok: true });
  });

  it('C9: with no channel configured, every channel but direct messages and group DMs; an explicitly listed DM is allowed', () => {
    expect(channelVerdict({ channel: 'C0RANDOM01', name: 'random' }, [])).toEqual({ ok: true });
    expect(channelVerdict({ channel: 'D0DMALICE1', name: 'directmessage' }, [])).toMatchObject({ ok: false, text: expect.stringContaining('It works in a channel (not in direct messages).') });
    expect(channelVerdict({ channel: 'G0GROUPDM1', name: 'mpdm-a--b-1' }, [])).toMatchObject({ ok: false });
    expect(channelVerdict({ channel: 'D0DMALICE1', name: 'directmessage' }, ['D0DMALICE1'])).toEqual({ ok: true });
  });
});
