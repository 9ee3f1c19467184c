import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDirs, runCli, STACK_LINE, stderrLines, writeTempCsv, type CliResult } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/** DESIGN §6 through the real binary: `campaign create`, `status`, `access`, `campaign lock|unlock`. */
let db: TestDatabase;
const cli = (args: string[], options?: { input?: string }) => runCli(args, { DATABASE_URL: db.url }, { timeoutMs: 60_000, ...options });
const json = <T = Record<string, unknown>>(result: CliResult): T => {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
};
const countCampaigns = async () => (await db.sql`select count(*)::int as n from campaigns`)[0]!.n as number;
const future = (ms: number) => new Date(Date.now() + ms).toISOString();
const COUNT_KEYS = ['bounced', 'cancelled', 'failed', 'inFlight', 'pending', 'sent', 'total', 'unknown'];

interface Counts extends Record<string, number> {
  total: number;
  pending: number;
}
interface Batch {
  id: string;
  position: number;
  status: string;
  sendAt: string | null;
  counts: Counts;
}
interface Deployment {
  id: string;
  status: string;
  counts: Counts;
  cancelledBy: string | null;
  cancelledAt: string | null;
  batches: Batch[];
}
interface Created {
  campaignId: string;
  deploymentIds: string[];
  status: string;
  imported: number;
}

function expectDeploymentShape(d: Deployment) {
  expect(d.id).toMatch(/^dep_[0-9a-z]{10}$/);
  expect(typeof d.status).toBe('string');
  expect(Object.keys(d.counts).sort()).toEqual(COUNT_KEYS);
  for (const key of COUNT_KEYS) expect(typeof d.counts[key], key).toBe('number');
  expect(d).toHaveProperty('cancelledBy', null);
  expect(d).toHaveProperty('cancelledAt', null);
}

const people = (n: number, domain = 'example.com') => Array.from({ length: n }, (_, i) => `person${i + 1}@${domain},Person ${i + 1}`);

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
  await removeTempDirs();
});

describe('campaign create', () => {
  it('--now --json prints one JSON object with the campaign and deployment ids', async () => {
    const file = await writeTempCsv(['email,first_name', ...people(5)]);
    const created = json<Created>(await cli(['campaign', 'create', '--name', 'Now single', '--recipients', file, '--now', '--json']));
    expect(created.campaignId).toMatch(/^cmp_[0-9a-z]{10}$/);
    expect(created.deploymentIds).toHaveLength(1);
    expect(created.deploymentIds[0]).toMatch(/^dep_[0-9a-z]{10}$/);
    expect(created.status).toBe('scheduled');
    expect(created.imported).toBe(5);
    const report = json<{ deployments: Deployment[] }>(await cli(['status', created.deploymentIds[0]!, '--json']));
    expect(report.deployments[0]!.counts).toMatchObject({ total: 5, pending: 5, sent: 0 });
  });

  it('multi: 3 deployments of 3 batches 10 minutes apart, visible in status per deployment', async () => {
    const sendAt = future(86_400_000);
    const file = await writeTempCsv(['email,first_name', ...people(10)]);
    const created = json<Created>(
      await cli(['campaign', 'create', '--name', 'Multi three', '--recipients', file, '--kind', 'multi', '--deployments', '3',
        '--batches', '3', '--batch-interval', '10m', '--send-at', sendAt, '--json']),
    );
    expect(created.deploymentIds).toHaveLength(3);
    expect(created.status).toBe('scheduled');

    const report = json<{ campaignId: string; status: string; deployments: Deployment[] }>(await cli(['status', created.campaignId, '--json']));
    expect(report.campaignId).toBe(created.campaignId);
    expect(report.deployments.map((d) => d.id)).toEqual(created.deploymentIds);
    let total = 0;
    for (const d of report.deployments) {
      expectDeploymentShape(d);
      expect(d.status).toBe('scheduled');
      expect(d.batches).toHaveLength(3);
      expect(d.batches.map((b) => b.position)).toEqual([1, 2, 3]);
      const times = d.batches.map((b) => Date.parse(b.sendAt!));
      expect(times[0]).toBe(Date.parse(sendAt));
      expect(times[1]! - times[0]!).toBe(600_000);
      expect(times[2]! - times[1]!).toBe(600_000);
      for (const b of d.batches) expect(Object.keys(b.counts).sort()).toEqual(COUNT_KEYS);
      expect(d.batches.reduce((sum, b) => sum + b.counts.total, 0)).toBe(d.counts.total);
      total += d.counts.total;
    }
    expect(total).toBe(10);

    const one = json<{ type: string; id: string; deployments: Deployment[] }>(await cli(['status', created.deploymentIds[1]!, '--json']));
    expect(one.type).toBe('deployment');
    expect(one.deployments).toHaveLength(1);
    expectDeploymentShape(one.deployments[0]!);
    expect(one.deployments[0]!.id).toBe(created.deploymentIds[1]);
    expect(one.deployments[0]!.batches).toHaveLength(3);

    const text = await cli(['status', created.campaignId]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(created.campaignId);
    for (const id of created.deploymentIds) expect(text.stdout).toContain(id);
    expect(text.stdout).toMatch(/batch 3 bat_/);
  });

  it('--priority sets the campaign\'s share of the send capacity, shown in status; a bad one is refused and writes nothing', async () => {
    const file = await writeTempCsv(['email,first_name', ...people(3)]);
    const high = json<Created & { priority: string }>(await cli(['campaign', 'create', '--name', 'Urgent', '--recipients', file, '--send-at', future(86_400_000), '--priority', 'high', '--json']));
    expect(high.priority).toBe('high');
    expect(json<{ priority: string; sendWeight: number }>(await cli(['status', high.campaignId, '--json']))).toMatchObject({ priority: 'high', sendWeight: 2 });
    const text = await cli(['status', high.campaignId]);
    expect(text.stdout).toMatch(/priority high/);

    const before = await db.sql`select count(*)::int as n from campaigns`;
    const refused = await cli(['campaign', 'create', '--name', 'Bad priority', '--recipients', file, '--now', '--priority', 'urgent']);
    expect(refused.code).toBe(2);
    expect(stderrLines(refused.stderr)).toEqual(['campaign-guard: --priority must be high, normal, low or a weight from 0.1 to 100 (normal = 1)']);
    expect(await db.sql`select count(*)::int as n from campaigns`).toEqual(before);
  }, 60_000);

  it('reports invalid and duplicate rows with their line numbers and skips them', async () => {
    const file = await writeTempCsv([
      'email,first_name', // line 1
      'good1@example.com,A', // 2
      'not-an-email,B', // 3
      'good2@example.com,C', // 4
      'GOOD1@example.com,D', // 5: the same address
      'good3@example.com,E', // 6
    ]);
    const result = await cli(['campaign', 'create', '--name', 'With problems', '--recipients', file, '--now', '--json']);
    const created = json<Created & { skipped: { invalid: number; duplicate: number } }>(result);
    expect(created.imported).toBe(3);
    expect(created.skipped).toEqual({ invalid: 1, duplicate: 1 });
    const lines = stderrLines(result.stderr);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^line 3: .*email/);
    expect(lines[1]).toMatch(/^line 5: .*duplicate/);
    const report = json<{ deployments: Deployment[] }>(await cli(['status', created.campaignId, '--json']));
    expect(report.deployments[0]!.counts.total).toBe(3);
  });

  it('--strict refuses the whole file and writes nothing', async () => {
    const before = await countCampaigns();
    const file = await writeTempCsv(['email', 'ok@example.com', 'broken@', 'ok@example.com']);
    const result = await cli(['campaign', 'create', '--name', 'Strict', '--recipients', file, '--now', '--strict']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^line 3: /m);
    expect(result.stderr).toMatch(/^line 4: /m);
    expect(result.stderr).toContain('--strict');
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(await countCampaigns()).toBe(before);
    expect((await db.sql`select count(*)::int as n from campaigns where name = 'Strict'`)[0]!.n).toBe(0);
  });

  it('refuses a file without an email column, with one clear line', async () => {
    const before = await countCampaigns();
    const file = await writeTempCsv(['address,first_name', 'a@example.com,A']);
    const result = await cli(['campaign', 'create', '--name', 'No header', '--recipients', file, '--now']);
    expect(result.code, result.stderr).toBe(1);
    const lines = stderrLines(result.stderr);
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/"email" column/);
    expect(await countCampaigns()).toBe(before);
  });

  it.each([
    ['an empty file', '', /empty|"email" column/],
    ['a header and no valid rows', 'email\nnot-an-address\n', /no valid recipients/],
  ])('refuses %s and creates nothing', async (_title, content, message) => {
    const before = await countCampaigns();
    const result = await cli(['campaign', 'create', '--name', 'Nothing in it', '--recipients', await writeTempCsv(content), '--now']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(stderrLines(result.stderr).at(-1)).toMatch(message);
    expect(await countCampaigns()).toBe(before);
  });

  it('refuses a missing file and a directory as --recipients', async () => {
    const dir = await makeTempDir();
    for (const file of [path.join(dir, 'missing.csv'), dir]) {
      const result = await cli(['campaign', 'create', '--name', 'Unreadable', '--recipients', file, '--now']);
      expect(result.code).toBe(2);
      expect(stderrLines(result.stderr)).toEqual([`campaign-guard: cannot read --recipients file ${file}`]);
    }
  });

  it.each([
    ['in the past', ['--send-at', '2020-01-01T09:00:00Z'], /in the past/],
    ['malformed', ['--send-at', 'tomorrow'], /--send-at must be an ISO time/],
    ['without a time zone', ['--send-at', '2030-01-01T09:00:00'], /--send-at must be an ISO time/],
    ['an impossible date', ['--send-at', '2030-13-45T09:00:00Z'], /--send-at must be an ISO time/],
    ['--deployments without --kind multi', ['--now', '--deployments', '2'], /--kind multi/],
    ['a bad --batch-interval', ['--now', '--batches', '2', '--batch-interval', 'soon'], /--batch-interval/],
  ])('refuses %s', async (_title, extra, message) => {
    const before = await countCampaigns();
    const file = await writeTempCsv(['email', 'a@example.com']);
    const result = await cli(['campaign', 'create', '--name', 'Refused', '--recipients', file, ...extra]);
    expect(result.code).toBe(2);
    const lines = stderrLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(await countCampaigns()).toBe(before);
  });

  it('without --now or --send-at makes a draft, which status shows but does not list as active', async () => {
    const file = await writeTempCsv(['email', 'draft@example.com']);
    const created = json<Created>(await cli(['campaign', 'create', '--name', 'Draft only', '--recipients', file, '--json']));
    expect(created.status).toBe('draft');
    const report = json<{ status: string; deployments: Deployment[] }>(await cli(['status', created.campaignId, '--json']));
    expect(report.status).toBe('draft');
    expect(report.deployments[0]!.status).toBe('draft');
    const active = json<{ deployments: { id: string }[] }>(await cli(['status', '--json']));
    expect(active.deployments.map((d) => d.id)).not.toContain(created.deploymentIds[0]);
  });

  it('reads recipients from standard input with --recipients -', async () => {
    const created = json<Created>(
      await cli(['campaign', 'create', '--name', 'From stdin', '--recipients', '-', '--now', '--json'], { input: 'email\nin1@example.com\nin2@example.com\n' }),
    );
    expect(created.imported).toBe(2);
  });
});

describe('status', () => {
  it('without an id lists the active deployments, as text and as JSON', async () => {
    const file = await writeTempCsv(['email', 'active@example.com']);
    const created = json<Created>(await cli(['campaign', 'create', '--name', 'Listed active', '--recipients', file, '--send-at', future(3_600_000), '--json']));
    const listed = json<{ deployments: Deployment[] }>(await cli(['status', '--json']));
    const mine = listed.deployments.find((d) => d.id === created.deploymentIds[0]);
    expect(mine).toBeDefined();
    expectDeploymentShape(mine!);
    for (const d of listed.deployments) expect(['scheduled', 'prefetching', 'prefetched', 'sending', 'paused']).toContain(d.status);
    const text = await cli(['status']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^DEPLOYMENT\s+NAME/);
    expect(text.stdout).toContain(created.deploymentIds[0]);
  });

  it('finds a campaign by its exact name', async () => {
    const file = await writeTempCsv(['email', 'named@example.com']);
    const created = json<Created>(await cli(['campaign', 'create', '--name', 'Spring Sale 2031', '--recipients', file, '--now', '--json']));
    const report = json<{ campaignId: string }>(await cli(['status', 'Spring Sale 2031', '--json']));
    expect(report.campaignId).toBe(created.campaignId);
  });

  it('an unknown id is refused with a clear line', async () => {
    const result = await cli(['status', 'dep_0000000000']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('No campaign or deployment matches');
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it('an SQL-looking reference is just a name that matches nothing', async () => {
    const before = await countCampaigns();
    expect(before).toBeGreaterThan(0);
    const result = await cli(['status', "'; DROP TABLE campaigns;--"]);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBe(70);
    expect(result.stderr).toContain('No campaign or deployment matches');
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(await countCampaigns()).toBe(before);
  });
});

// Each step is a CLI process (about 2 s to start under tsx), so these take 10-25 s on a busy machine.
describe('access and edit locks', { timeout: 90_000 }, () => {
  it('grants, lists and revokes roles, and refuses an unknown role', async () => {
    const granted = await cli(['access', 'grant', 'U123', '--role', 'responder']);
    expect(granted.code, granted.stderr).toBe(0);
    const listed = json<{ operators: { user: string; role: string }[] }>(await cli(['access', 'list', '--json']));
    expect(listed.operators).toContainEqual(expect.objectContaining({ user: 'U123', role: 'responder' }));

    const revoked = await cli(['access', 'revoke', 'U123']);
    expect(revoked.code, revoked.stderr).toBe(0);
    const after = json<{ operators: { user: string }[] }>(await cli(['access', 'list', '--json']));
    expect(after.operators.map((o) => o.user)).not.toContain('U123');

    const king = await cli(['access', 'grant', 'U1', '--role', 'king']);
    expect(king.code).toBe(2);
    expect(king.stderr).toContain('king');
    expect(king.stderr).not.toMatch(STACK_LINE);
    expect((await db.sql`select count(*)::int as n from operators where user_id = 'U1'`)[0]!.n).toBe(0);

    const again = await cli(['access', 'revoke', 'U123']);
    expect(again.code).toBe(1);
  });

  it('a lock is held by one user until they (or --force) release it', async () => {
    const file = await writeTempCsv(['email', 'lock@example.com']);
    const { campaignId } = json<Created>(await cli(['campaign', 'create', '--name', 'Locked one', '--recipients', file, '--json']));

    expect((await cli(['campaign', 'lock', campaignId, '--actor', 'U1'])).code).toBe(0);
    const second = await cli(['campaign', 'lock', campaignId, '--actor', 'U2']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('U1');
    const status = await cli(['status', campaignId]);
    expect(status.stdout).toContain('locked by U1');

    const notHolder = await cli(['campaign', 'unlock', campaignId, '--actor', 'U2']);
    expect(notHolder.code).toBe(1);
    expect(notHolder.stderr).toContain('U1');
    const forced = await cli(['campaign', 'unlock', campaignId, '--actor', 'U2', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    const report = json<{ lockedBy: string | null }>(await cli(['status', campaignId, '--json']));
    expect(report.lockedBy).toBeNull();

    const audit = await db.sql`select action, actor, target_id, details from audit_log where target_id = ${campaignId} order by id`;
    expect(audit.map((r) => r.action)).toEqual(['campaign.create', 'campaign.lock', 'campaign.unlock']);
    expect(audit[1]!.actor).toBe('U1');
    expect(audit[2]).toMatchObject({ actor: 'U2', details: { previousHolder: 'U1', forced: true } });
  });

  it('records grants and revocations in the audit log', async () => {
    const rows = await db.sql`select action, details from audit_log where target_type = 'operator' and target_id = 'U123' order by id`;
    expect(rows.map((r) => r.action)).toEqual(['access.grant', 'access.revoke']);
    expect(rows[0]!.details).toMatchObject({ role: 'responder' });
  });
});
