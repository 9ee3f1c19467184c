import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audienceCsv, createCampaignOrThrow } from '../support/builders.js';
import { homeOpened, interactivityBody, sendSigned, TEAM } from '../support/slack.js';
import { startSlackStack, type SlackStack } from './harness.js';

/** App Home: the activity monitor, refreshed as deployments change; View opens a campaign with Cancel on top. */
let stack: SlackStack;

beforeAll(async () => {
  stack = await startSlackStack();
  await stack.app.services.access.grant('U0ALICE001', 'responder', 'test');
});
afterAll(async () => {
  await stack?.stop();
});

const published = (user: string) => stack.slack.ok('views.publish').filter((c) => c.args.user_id === user);

describe('App Home', () => {
  it('publishes the active deployments, refreshes them on a change, and View opens the campaign with Cancel on top', async () => {
    const { campaignId, deploymentIds } = await createCampaignOrThrow(stack.db, { name: 'Home <!here> run', kind: 'multi', deployments: 2, csv: audienceCsv(10), sendAt: new Date(Date.now() + 3_600_000) });
    const res = await sendSigned(stack.base, homeOpened('U0ALICE001'), 'application/json');
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(3000);
    const first = await stack.slack.waitFor(() => published('U0ALICE001')[0]);
    const view = first.args.view as { type: string; blocks: { accessory?: { action_id: string; value: string } }[] };
    expect(view.type).toBe('home');
    const text = JSON.stringify(view.blocks);
    for (const id of deploymentIds) expect(text).toContain(id);
    expect(text).toContain('Home &lt;!here&gt; run');
    expect(text).not.toContain('<!here>');
    const viewButton = view.blocks.find((b) => b.accessory?.action_id === 'view_campaign')!.accessory!;
    expect(viewButton.value).toBe(`v1:${campaignId}`);

    // A change (pause from Slack) re-publishes, throttled.
    await sendSigned(stack.base, new URLSearchParams({ team_id: TEAM, user_id: 'U0ALICE001', command: '/campaign', text: `pause ${campaignId}`, trigger_id: 't1', response_url: 'http://127.0.0.1:9/r', channel_id: 'C0ALERTS01', user_name: 'a', team_domain: 'a', channel_name: 'a', api_app_id: 'A', token: 't' }).toString());
    const refreshed = await stack.slack.waitFor(() => published('U0ALICE001').find((c) => JSON.stringify(c.args.view).includes('*paused*')), 10_000, 'the refreshed home');
    expect(JSON.stringify(refreshed.args.view)).toContain(deploymentIds[1]!);

    // View: the campaign's deployments, with Cancel on top.
    const click = interactivityBody({
      type: 'block_actions',
      team: { id: TEAM, domain: 'acme' },
      user: { id: 'U0ALICE001', username: 'alice', team_id: TEAM },
      api_app_id: 'A0APP00001',
      token: 't',
      container: { type: 'view', view_id: 'V0HOME0001' },
      trigger_id: '245.227.home',
      view: { id: 'V0HOME0001', type: 'home', blocks: [], private_metadata: '', callback_id: '', state: { values: {} }, hash: 'h' },
      actions: [{ type: 'button', block_id: `row_${deploymentIds[0]}`, action_id: 'view_campaign', text: { type: 'plain_text', text: 'View' }, value: `v1:${campaignId}`, action_ts: '1' }],
    });
    expect((await sendSigned(stack.base, click)).status).toBe(200);
    const opened = await stack.slack.waitFor(() => stack.slack.ok('views.open').find((c) => c.args.trigger_id === '245.227.home'));
    const blocks = (opened.args.view as { blocks: { type: string; elements?: { action_id: string; value: string }[] }[] }).blocks;
    expect(blocks[1]!.type).toBe('actions');
    expect(blocks[1]!.elements![0]).toMatchObject({ action_id: 'cancel_deployment', value: `v1:${deploymentIds[0]}` });
    for (const id of deploymentIds) expect(JSON.stringify(blocks)).toContain(id);
  });

  it('someone without a role sees an explanation, not the monitor, and it is audited', async () => {
    await sendSigned(stack.base, homeOpened('U0STRANGER'), 'application/json');
    const view = await stack.slack.waitFor(() => published('U0STRANGER')[0]);
    expect(JSON.stringify(view.args.view)).toMatch(/no access/);
    expect(await stack.db.sql`select action, outcome from audit_log where actor = 'U0STRANGER'`).toEqual([{ action: 'slack.home', outcome: 'refused' }]);
  });

  it('O6: a viewer whose access is revoked gets no more monitor refreshes: each publish asks the gate', async () => {
    await stack.app.services.access.grant('U0REVOKED1', 'viewer', 'test');
    const { campaignId } = await createCampaignOrThrow(stack.db, { name: 'Secret launch', csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) });
    await sendSigned(stack.base, homeOpened('U0REVOKED1'), 'application/json');
    await stack.slack.waitFor(() => published('U0REVOKED1').find((c) => JSON.stringify(c.args.view).includes('Secret launch')));
    expect((await stack.app.services.access.revoke('U0REVOKED1', 'test')).ok).toBe(true);

    // A change re-publishes for the recent viewers: Alice (still a responder) gets it, the revoked viewer does not.
    const before = published('U0REVOKED1').length;
    await sendSigned(stack.base, new URLSearchParams({ team_id: TEAM, user_id: 'U0ALICE001', command: '/campaign', text: `pause ${campaignId}`, trigger_id: 't2', response_url: 'http://127.0.0.1:9/r', channel_id: 'C0ALERTS01', user_name: 'a', team_domain: 'a', channel_name: 'a', api_app_id: 'A', token: 't' }).toString());
    await stack.slack.waitFor(() => published('U0ALICE001').find((c) => /Secret launch[^"]*\*paused\*/.test(JSON.stringify(c.args.view))), 10_000, "Alice's refreshed home");
    // The same refresh tells the revoked viewer, in place of the monitor, that they have no access.
    const refusal = await stack.slack.waitFor(() => published('U0REVOKED1')[before], 10_000, 'the refusal in place of the monitor');
    expect(JSON.stringify(refusal.args.view)).not.toContain('Secret launch');
    expect(JSON.stringify(refusal.args.view)).toMatch(/no access/);
    // Dropped from the viewers: the next change publishes nothing to them at all.
    await sendSigned(stack.base, new URLSearchParams({ team_id: TEAM, user_id: 'U0ALICE001', command: '/campaign', text: `resume ${campaignId}`, trigger_id: 't3', response_url: 'http://127.0.0.1:9/r', channel_id: 'C0ALERTS01', user_name: 'a', team_domain: 'a', channel_name: 'a', api_app_id: 'A', token: 't' }).toString());
    await stack.slack.waitFor(() => published('U0ALICE001').find((c) => /Secret launch[^"]*\*(scheduled|sending)\*/.test(JSON.stringify(c.args.view))), 10_000, "Alice's home after resume");
    expect(published('U0REVOKED1').slice(before)).toHaveLength(1);
  });
});
