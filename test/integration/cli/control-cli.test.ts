import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs, runCli, writeTempCsv } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/** `cancel`, `pause`, `resume` through the real binary, with the texts Slack will show. */
let db: TestDatabase;
// No Redis here: stops are then seen by workers at their next poll of Postgres.
const cli = (args: string[]) => runCli(args, { DATABASE_URL: db.url, DATA_DIR: '/nonexistent/campaign-guard' }, { timeoutMs: 60_000 });
const future = () => new Date(Date.now() + 3_600_000).toISOString();

async function newDeployment(name: string): Promise<string> {
  const file = await writeTempCsv(['email', 'a@example.com', 'b@example.com', 'c@example.com']);
  const created = await cli(['campaign', 'create', '--name', name, '--recipients', file, '--send-at', future(), '--json']);
  expect(created.code, created.stderr).toBe(0);
  return (JSON.parse(created.stdout) as { deploymentIds: string[] }).deploymentIds[0]!;
}

beforeAll(async () => {
  db = await createTestDatabase();
  expect((await cli(['access', 'grant', 'U_ONCALL', '--role', 'responder'])).code).toBe(0);
  expect((await cli(['access', 'grant', 'U_WATCH', '--role', 'viewer'])).code).toBe(0);
}, 60_000);
afterAll(async () => {
  await removeTempDirs();
  await db.drop();
});

describe('cancel, pause and resume from the CLI', () => {
  it('cancels once, says it cannot be undone, and refuses a second cancel naming who did it', async () => {
    const id = await newDeployment('cli cancel');
    const viewer = await cli(['cancel', id, '--actor', 'U_WATCH']);
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toMatch(/Not permitted: U_WATCH is a viewer/);

    const done = await cli(['cancel', id, '--actor', 'U_ONCALL', '--reason', 'wrong list']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/Cancelled dep_\w+: 0 already sent, 0 in flight .*3 will never be sent\. This cannot be undone/);

    const again = await cli(['cancel', id, '--actor', 'U_ONCALL']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already cancelled by U_ONCALL/);

    const status = JSON.parse((await cli(['status', id, '--json'])).stdout) as { status: string; cancelledBy: string; cancelledAt: string; counts: { cancelled: number; pending: number } };
    expect(status).toMatchObject({ status: 'cancelled', cancelledBy: 'U_ONCALL', counts: { cancelled: 3, pending: 0 } });
    expect(status.cancelledAt).toMatch(/^\d{4}-/);
    const active = JSON.parse((await cli(['status', '--json'])).stdout) as { deployments: { id: string }[] };
    expect(active.deployments.map((d) => d.id)).not.toContain(id);
  }, 60_000);

  it('pauses and resumes, and refuses a resume of what is not paused', async () => {
    const id = await newDeployment('cli pause');
    const paused = await cli(['pause', id, '--actor', 'U_ONCALL']);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/Paused dep_/);
    const resumed = await cli(['resume', id, '--actor', 'U_ONCALL', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ outcome: 'resumed', deploymentIds: [id] });
    const notPaused = await cli(['resume', id, '--actor', 'U_ONCALL']);
    expect(notPaused.code).toBe(1);
    expect(notPaused.stderr).toMatch(/not paused|Not possible/i);
  }, 60_000);

  it('refuses a command without --actor as a usage error, changing nothing', async () => {
    const id = await newDeployment('cli no actor');
    for (const verb of ['cancel', 'pause', 'resume']) {
      const result = await cli([verb, id]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/required option '--actor <user>' not specified/);
    }
    expect((await db.sql`select status from deployments where id = ${id}`)[0]!.status).toBe('scheduled');
  }, 60_000);

  it('refuses an unknown id with one clear line', async () => {
    const result = await cli(['cancel', 'dep_0000000000', '--actor', 'U_ONCALL']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/No campaign, deployment or batch matches dep_0000000000/);
  }, 30_000);
});
