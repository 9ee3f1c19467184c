import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, STACK_LINE, stderrLines } from '../../support/cli.js';
import { createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/** `campaign policy`: a campaign's alert policy overrides, through the real binary. */
let db: TestDatabase;
let campaignId: string;
const cli = (args: string[]) => runCli(args, { DATABASE_URL: db.url }, { timeoutMs: 60_000 });
const stored = async () => (await db.sql`select alert_policy from campaigns where id = ${campaignId}`)[0]!.alert_policy;

beforeAll(async () => {
  db = await createTestDatabase();
  campaignId = (await createCampaignOrThrow(db, { sendAt: null })).campaignId;
});
afterAll(async () => {
  await db.drop();
});

describe('campaign policy', () => {
  it('shows the defaults when nothing is overridden', async () => {
    const result = await cli(['campaign', 'policy', campaignId]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('(the defaults)');
    expect(result.stdout).toContain('bounce    warning at 2%, critical at 5%');
  });

  it('sets overrides one at a time, keeping the others, and audits each change', async () => {
    expect((await cli(['campaign', 'policy', campaignId, '--bounce-warn', '3%', '--actor', 'U_OPS'])).code).toBe(0);
    const second = await cli(['campaign', 'policy', campaignId, '--bounce-critical', '0.08', '--min-sample', '500', '--auto-pause', 'on', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const shown = JSON.parse(second.stdout);
    expect(shown.override).toEqual({ thresholds: { bounce: { warn: 0.03, critical: 0.08 } }, minSample: 500, autoPauseOnCritical: true });
    expect(shown.effective).toMatchObject({ minSample: 500, autoPauseOnCritical: true, thresholds: { bounce: { warn: 0.03, critical: 0.08 }, error: { warn: 0.05, critical: 0.1 } } });
    expect(await stored()).toEqual(shown.override);
    const audit = await db.sql`select actor, action from audit_log where target_id = ${campaignId} and action = 'campaign.alert_policy' order by id`;
    expect(audit.map((a) => a.actor)).toEqual(['U_OPS', expect.stringMatching(/^cli:/)]);
  });

  it.each([
    [['--bounce-warn', '5'], '--bounce-warn must be a fraction like 0.05 or a percentage like 5%', 2],
    [['--bounce-warn', '9%'], 'bounce: warning (0.09) must be below critical (0.08)', 2],
    [['--min-sample', 'lots'], '--min-sample must be a whole number', 2],
    [['--reset', '--bounce-warn', '1%'], '--reset cannot be combined with other changes', 2],
  ])('refuses %j with one clear line and changes nothing', async (args, message, code) => {
    const before = await stored();
    const result = await cli(['campaign', 'policy', campaignId, ...args]);
    expect(result.code).toBe(code);
    expect(stderrLines(result.stderr).join('\n')).toContain(message);
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(await stored()).toEqual(before);
  });

  it('answers "not found" for an unknown campaign', async () => {
    const result = await cli(['campaign', 'policy', 'cmp_0000000000', '--bounce-warn', '1%']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('No campaign matches');
  });

  it('--reset drops every override', async () => {
    const result = await cli(['campaign', 'policy', campaignId, '--reset']);
    expect(result.code, result.stderr).toBe(0);
    expect(await stored()).toBeNull();
  });
});
