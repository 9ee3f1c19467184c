import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs, runCli, STACK_LINE, stderrLines, writeTempCsv } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/** Issue 19 through the real binary: a CSV shaped to be quadratic, and templates that cannot render. */
let db: TestDatabase;
const countCampaigns = async () => (await db.sql`select count(*)::int as n from campaigns`)[0]!.n as number;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
  await removeTempDirs();
});

describe('campaign create on hostile input', () => {
  // Linear: about a second here with the process start. The quadratic boundary search ran for
  // many minutes on this file (20k lines took 10 s, 40k lines 38 s), so the generous limit below
  // cannot be reached by a slow machine, only by the quadratic shape.
  it('T2: an unclosed quote then 200,000 lines of "" is refused at once, with the line it starts on', async () => {
    const file = await writeTempCsv(`email,first_name\n"a@example.com,Ann\n${'""\n'.repeat(200_000)}`);
    const before = await countCampaigns();
    const result = await runCli(['campaign', 'create', '--name', 'Quadratic', '--recipients', file, '--now'], { DATABASE_URL: db.url }, { timeoutMs: 90_000 });
    expect(result.code, result.stderr).toBe(1);
    expect(stderrLines(result.stderr)).toEqual(['campaign-guard: the file is not valid CSV: line 2: a quoted field is never closed']);
    expect(await countCampaigns()).toBe(before);
  }, 120_000);

  it('T1: a tag that is not a merge field is refused, named, and nothing is created', async () => {
    const file = await writeTempCsv(['email,First Name', 'a@example.com,Ann']);
    const before = await countCampaigns();
    const result = await runCli(['campaign', 'create', '--name', 'Bad tag', '--subject', 'Hi {{ First Name }}', '--recipients', file, '--now'], { DATABASE_URL: db.url });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(stderrLines(result.stderr)).toEqual(['campaign-guard: --subject: {{ First Name }} is not a merge field; write a column name in lower case with _ for spaces, like {{first_name}}']);
    expect(await countCampaigns()).toBe(before);
  });

  it('T1: {{constructor}} is an unknown field like any other: the campaign is created and the operator told it renders empty', async () => {
    const file = await writeTempCsv(['email,First Name', 'a@example.com,Ann']);
    const result = await runCli(['campaign', 'create', '--name', 'Prototype names', '--subject', 'Hi {{first_name}} {{constructor}}', '--recipients', file, '--json'], { DATABASE_URL: db.url });
    expect(result.code, result.stderr).toBe(0);
    expect(stderrLines(result.stderr)).toEqual(['warning: the file has no column for {{constructor}}; it renders empty']);
  });
});
