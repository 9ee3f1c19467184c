import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAlertForTest } from '../../support/alerts.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { removeTempDirs, runCli } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/** `alerts ack` through the real binary: the same service and rules as Slack's Acknowledge. */
let db: TestDatabase;
const cli = (args: string[]) => runCli(args, { DATABASE_URL: db.url, DATA_DIR: '/nonexistent/campaign-guard' }, { timeoutMs: 60_000 });

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`insert into operators (user_id, role, granted_by) values ('U_ONCALL', 'responder', 'test'), ('U_WATCH', 'viewer', 'test')`;
}, 60_000);
afterAll(async () => {
  await removeTempDirs();
  await db.drop();
});

describe('alerts ack', () => {
  it('refuses a viewer, acknowledges every open alert of a deployment once, then says who already did', async () => {
    const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(5), sendAt: new Date(Date.now() + 3_600_000) });
    const dep = deploymentIds[0]!;
    const alertId = await openAlertForTest(db, dep);

    const viewer = await cli(['alerts', 'ack', dep, '--actor', 'U_WATCH']);
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toContain('U_WATCH is a viewer; only responders and admins may acknowledge alerts. Nothing was changed.');

    const done = await cli(['alerts', 'ack', dep, '--actor', 'U_ONCALL']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toBe(`Acknowledged ${alertId} as U_ONCALL: it will not be re-announced or paged.\n`);

    const again = await cli(['alerts', 'ack', alertId, '--actor', 'U_ONCALL', '--json']);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: false, code: 'already_acknowledged', by: 'U_ONCALL' });
    expect(again.stderr).toMatch(/Already acknowledged by U_ONCALL at \d{4}-\d\d-\d\dT/);
    expect(await db.sql`select actor, outcome from audit_log where action = 'alert.acknowledge' order by id`).toEqual([
      { actor: 'U_WATCH', outcome: 'refused' },
      { actor: 'U_ONCALL', outcome: 'ok' },
    ]);
  }, 120_000);

  it('O11: a malformed or unknown id, or no --actor: one line saying what is wrong, nothing changed', async () => {
    const cases: [string[], number, string][] = [
      [['alerts', 'ack', 'cmp_0000000001', '--actor', 'U_ONCALL'], 1, 'campaign-guard: `cmp_0000000001` is not an alert or deployment id. Nothing was changed.\n'],
      [['alerts', 'ack', '../../etc', '--actor', 'U_ONCALL'], 1, 'campaign-guard: `../../etc` is not an alert or deployment id. Nothing was changed.\n'],
      [['alerts', 'ack', 'alr_0000000009', '--actor', 'U_ONCALL'], 1, 'campaign-guard: No alert alr_0000000009. Nothing was changed.\n'],
      [['alerts', 'ack', 'alr_0000000009'], 2, "error: required option '--actor <user>' not specified\n(run with --help for usage)\n"],
    ];
    for (const [args, code, stderr] of cases) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(code);
      expect(result.stderr).toBe(stderr);
      expect(result.stdout).toBe('');
    }
    expect(await db.sql`select count(*)::int as n from audit_log where action = 'alert.acknowledge' and target_id like 'alr_0000000009%'`).toEqual([{ n: 0 }]);
  }, 120_000);
});
