import { describe, expect, it } from 'vitest';
import type { RelayFaultView } from '../../../src/db/queries/relay-faults.js';
import { renderRelayFault } from '../../../src/slack/blocks/relay-fault.js';

/** The relay-fault alert: the cause in the relay's words (escaped), what waits, and Resume while open. */
const view = (over: Partial<RelayFaultView> = {}): RelayFaultView => ({
  id: 'rly_0123456789',
  cause: 'relay refused our login: 535 5.7.8 <!channel> Authentication failed',
  state: 'open',
  deployment_ids: ['dep_aaaaaaaaaa', 'dep_bbbbbbbbbb'],
  opened_at: new Date('2026-12-06T07:00:00Z'),
  updated_at: new Date('2026-12-06T07:00:00Z'),
  resumed_by: null,
  resumed_at: null,
  slack_channel: null,
  slack_ts: null,
  deployments: [
    { id: 'dep_aaaaaaaaaa', name: 'Wave 1', status: 'paused', campaign_name: 'Spring <sale>', waiting: 1200 },
    { id: 'dep_bbbbbbbbbb', name: 'Wave 2', status: 'paused', campaign_name: 'Spring <sale>', waiting: 1 },
  ],
  ...over,
});

describe('renderRelayFault', () => {
  it('names the cause, says nobody failed and how many wait, and offers Resume for the fault', () => {
    const { text, blocks } = renderRelayFault(view());
    const all = JSON.stringify(blocks);
    expect(all).toContain('Sending paused: the SMTP relay is failing.');
    expect(all).toContain('relay refused our login: 535 5.7.8 &lt;!channel&gt; Authentication failed');
    expect(all).not.toContain('<!channel>');
    expect(all).toContain('No recipient was marked failed: 1,201 wait and will be sent once resumed.');
    expect(all).toContain('*Spring &lt;sale&gt;* / Wave 1 (`dep_aaaaaaaaaa`): paused, 1,200 waiting');
    const actions = blocks.find((b) => b.type === 'actions') as { elements: { action_id: string; value: string }[] };
    expect(actions.elements.map((e) => [e.action_id, e.value])).toEqual([['resume_deployment', 'v1:rly_0123456789']]);
    expect(text).not.toContain('<!channel>');
  });

  it('once resumed: who and when, no buttons', () => {
    const { blocks } = renderRelayFault(view({ state: 'resumed', resumed_by: 'U0ALICE001', resumed_at: new Date('2026-12-06T07:05:00Z') }));
    expect(JSON.stringify(blocks)).toContain('*SMTP relay fault resumed* by <@U0ALICE001>');
    expect(blocks.some((b) => b.type === 'actions')).toBe(false);
  });
});
