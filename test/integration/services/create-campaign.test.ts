import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { fieldLineAsJsonSql } from '../../../src/db/field-line.js';
import { audienceCsv, createCampaign, createCampaignOrThrow, csv } from '../../support/builders.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

/** The audience of a deployment as prefetch will see it: one row per recipient, in seq order. */
async function audienceOf(deploymentId: string) {
  return db.sql<{ seq: number; email: string; fields: string[] }[]>`
    select c.first_seq + r.ord::int - 1 as seq, r.email, ${db.sql.unsafe(fieldLineAsJsonSql('r.fields'))} as fields
    from audience_chunks c,
         rows from (string_to_table(c.emails, e'\\n'), string_to_table(c.fields, e'\\n')) with ordinality as r(email, fields, ord)
    where c.deployment_id = ${deploymentId}
    order by seq`;
}

describe('campaign import', () => {
  it('imports a single campaign: deployment, one batch, totals, audit', async () => {
    const created = await createCampaignOrThrow(db, { name: 'Spring', csv: audienceCsv(250) });
    expect(created.imported).toBe(250);
    const [deployment] = await db.sql`select * from deployments where id = ${created.deploymentIds[0]!}`;
    expect(deployment).toMatchObject({ status: 'scheduled', total_count: 250, campaign_id: created.campaignId });
    const batches = await db.sql`select * from batches where deployment_id = ${created.deploymentIds[0]!}`;
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ first_seq: 1, last_seq: 250, total_count: 250, status: 'scheduled' });
    const rows = await audienceOf(created.deploymentIds[0]!);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(rows[0]).toEqual({ seq: 1, email: 'user1@example.com', fields: ['first_name-1'] });
    const [campaign] = await db.sql`select field_names from campaigns where id = ${created.campaignId}`;
    expect(campaign!.field_names).toEqual(['first_name']);
    const audit = await db.sql`select action, outcome from audit_log where target_id = ${created.campaignId}`;
    expect(audit).toEqual([{ action: 'campaign.create', outcome: 'ok' }]);
  });

  it('reports invalid and duplicate rows with their line numbers and skips them', async () => {
    const outcome = await createCampaign(db, {
      csv: csv(['email,name', 'a@example.com,A', 'not-an-address,B', 'b@example.com,C', 'A@EXAMPLE.COM,D', 'c@example.com,E,extra', '', 'd@example.com,F']),
    });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.value.imported).toBe(3);
    expect(outcome.value.problems).toEqual([
      { lineNo: 3, kind: 'invalid', detail: 'email has no local part or no domain' },
      { lineNo: 5, kind: 'duplicate', detail: 'duplicate address A@example.com' },
      { lineNo: 6, kind: 'invalid', detail: 'expected 2 fields, found 3' },
    ]);
    expect((await audienceOf(outcome.value.deploymentIds[0]!)).map((r) => r.email)).toEqual(['a@example.com', 'b@example.com', 'd@example.com']);
  });

  it('parses quoted fields, doubled quotes, line breaks in quotes, CRLF and a BOM, keeping line numbers', async () => {
    const file = '\ufeffEmail,Note\r\n"q1@example.com","a, b"\r\nq2@example.com,"say ""hi"""\r\nq3@example.com,"two\nlines"\r\nbroken,x\r\nq4@example.com,back\\slash\ttab\r\n';
    const outcome = await createCampaign(db, { csv: file });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.value.problems).toEqual([{ lineNo: 6, kind: 'invalid', detail: 'email has no local part or no domain' }]);
    const rows = await audienceOf(outcome.value.deploymentIds[0]!);
    expect(rows.map((r) => [r.email, r.fields])).toEqual([
      ['q1@example.com', ['a, b']],
      ['q2@example.com', ['say "hi"']],
      ['q3@example.com', ['two\nlines']],
      ['q4@example.com', ['back\\slash\ttab']],
    ]);
  });

  it('keeps empty values, bracketed values and email-only files exact', async () => {
    const one = await createCampaignOrThrow(db, { csv: csv(['email,tag', 'e1@example.com,', 'e2@example.com,[VIP]', 'e3@example.com,{x}']) });
    expect((await audienceOf(one.deploymentIds[0]!)).map((r) => r.fields)).toEqual([[''], ['[VIP]'], ['{x}']]);
    const two = await createCampaignOrThrow(db, { csv: csv(['email,a,b', 'e4@example.com,,', 'e5@example.com,x,']) });
    expect((await audienceOf(two.deploymentIds[0]!)).map((r) => r.fields)).toEqual([['', ''], ['x', '']]);
    const none = await createCampaignOrThrow(db, { csv: csv(['email', 'e6@example.com']) });
    expect((await audienceOf(none.deploymentIds[0]!)).map((r) => r.fields)).toEqual([[]]);
  });

  it('refuses rows with a NUL byte and keeps unicode merge fields intact', async () => {
    const outcome = await createCampaign(db, { csv: csv(['email,first_name', 'n1@example.com,Zoë 😀', 'n2@example.com,bad\u0000name', 'n3@example.com,\u2028line']) });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.value.problems).toEqual([{ lineNo: 3, kind: 'invalid', detail: 'contains a NUL byte' }]);
    const rows = await audienceOf(outcome.value.deploymentIds[0]!);
    expect(rows.map((r) => r.fields[0])).toEqual(['Zoë 😀', '\u2028line']);
  });

  it('spreads a multi campaign over its deployments, or follows a deployment column', async () => {
    const spread = await createCampaignOrThrow(db, { kind: 'multi', deployments: 3, csv: audienceCsv(10) });
    expect(spread.perDeployment).toEqual([4, 3, 3]);
    const pinned = await createCampaignOrThrow(db, {
      kind: 'multi',
      deployments: 2,
      csv: csv(['email,deployment', 'p1@example.com,2', 'p2@example.com,2', 'p3@example.com,1', 'p4@example.com,', 'p5@example.com,3']),
    });
    // p4 has no deployment: spread rows go round-robin by line (line 5 → the second deployment).
    expect(pinned.perDeployment).toEqual([1, 3]);
    expect(pinned.problems).toEqual([{ lineNo: 6, kind: 'invalid', detail: 'deployment must be a number from 1 to 2' }]);
    expect((await audienceOf(pinned.deploymentIds[1]!)).map((r) => r.email)).toEqual(['p1@example.com', 'p2@example.com', 'p4@example.com']);
  });

  it('splits each deployment into batches with their own send times and seq ranges', async () => {
    const sendAt = new Date(Date.now() + 3_600_000);
    const created = await createCampaignOrThrow(db, { csv: audienceCsv(10), batches: 3, batchIntervalMs: 600_000, sendAt });
    const batches = await db.sql`select position, first_seq, last_seq, total_count, send_at from batches where deployment_id = ${created.deploymentIds[0]!} order by position`;
    expect(batches.map((b) => [b.position, b.first_seq, b.last_seq, b.total_count])).toEqual([
      [1, 1, 4, 4],
      [2, 5, 7, 3],
      [3, 8, 10, 3],
    ]);
    expect(batches.map((b) => new Date(b.send_at as string).getTime() - sendAt.getTime())).toEqual([0, 600_000, 1_200_000]);
  });

  it('creates a draft when no send time is given', async () => {
    const created = await createCampaignOrThrow(db, { sendAt: null });
    expect(created.status).toBe('draft');
    const [campaign] = await db.sql`select status, send_at from campaigns where id = ${created.campaignId}`;
    expect(campaign).toEqual({ status: 'draft', send_at: null });
  });

  it('--strict refuses the whole file and writes nothing', async () => {
    const before = await db.sql`select (select count(*) from campaigns)::int as c, (select count(*) from audience_chunks)::int as a`;
    const outcome = await createCampaign(db, { strict: true, csv: csv(['email', 's1@example.com', 'bad', 's1@example.com']) });
    expect(outcome).toMatchObject({ ok: false, code: 'strict_refused', invalidCount: 1, duplicateCount: 1 });
    const after = await db.sql`select (select count(*) from campaigns)::int as c, (select count(*) from audience_chunks)::int as a`;
    expect(after).toEqual(before);
  });

  it.each([
    ['no email column', csv(['name,address', 'a,b']), 'bad_file', /"email" column/],
    ['an empty file', '', 'bad_file', /empty/],
    ['an unclosed quote', csv(['email', '"x@example.com']), 'bad_file', /never closed/],
    ['text after a closing quote', csv(['email', '"x@example.com"junk']), 'bad_file', /after a closing quote/],
    ['two email columns', csv(['email,Email', 'a@example.com,b@example.com']), 'bad_file', /more than one/],
    ['only invalid rows', csv(['email', 'nope', 'also nope']), 'empty_audience', /no valid recipients/],
  ])('refuses %s with a clear reason and writes nothing', async (_label, file, code, reason) => {
    const before = await db.sql`select count(*)::int as n from campaigns`;
    const outcome = await createCampaign(db, { csv: file });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.code).toBe(code);
    expect(outcome.reason).toMatch(reason);
    expect(await db.sql`select count(*)::int as n from campaigns`).toEqual(before);
  });

  it('imports 20,000 rows across chunk boundaries without losing or reordering any', async () => {
    const created = await createCampaignOrThrow(db, { kind: 'multi', deployments: 2, csv: audienceCsv(20_000, { columns: ['email', 'first_name', 'city'] }) });
    expect(created.imported).toBe(20_000);
    const rows = await audienceOf(created.deploymentIds[1]!);
    expect(rows).toHaveLength(10_000);
    expect(rows[9_999]).toEqual({ seq: 10_000, email: 'user20000@example.com', fields: ['first_name-20000', 'city-20000'] });
    const [{ n }] = (await db.sql`select count(distinct email)::int as n from (select string_to_table(emails, e'\\n') as email from audience_chunks where deployment_id = any(${created.deploymentIds})) e`) as unknown as [{ n: number }];
    expect(n).toBe(20_000);
  });
});

describe('campaign import on worker threads', () => {
  it('gives the same audience, problems and line numbers as the main thread, across many blocks', async () => {
    const { createAudienceWorkerPool } = await import('../../../src/services/campaigns/audience-workers.js');
    const { createCampaignCreator } = await import('../../../src/services/campaigns/create-campaign.js');
    const { checkCampaignSpec } = await import('../../../src/domain/campaign-spec.js');
    const { Readable } = await import('node:stream');
    const lines = ['email,first_name,note'];
    for (let i = 1; i <= 30_000; i++) {
      if (i % 997 === 0) lines.push(`broken-${i},x,y`);
      else if (i % 1009 === 0) lines.push(`USER${i - 500}@Example.com,dup,"quoted, with ""quotes""\nand a line break"`);
      else lines.push(`user${i}@example.com,Name ${i},${i % 7 === 0 ? '"a, b"' : 'plain'}`);
    }
    const file = csv(lines);
    const spec = checkCampaignSpec({ name: 'parallel', kind: 'multi', deployments: 3, sendAt: 'now' }, new Date());
    if (!spec.ok) throw new Error(spec.reason);
    const pool = createAudienceWorkerPool(2);
    try {
      const run = (validateBlock?: typeof pool.validate) =>
        createCampaignCreator({ database: db, clock: () => new Date(), validateBlock })({
          ...spec.value,
          body: 'hi',
          strict: false,
          actor: 'tester',
          recipients: Readable.from([file]),
        });
      const [inline, parallel] = [await run(undefined), await run(pool.validate)];
      if (!inline.ok || !parallel.ok) throw new Error('import refused');
      expect(parallel.value.problems).toEqual(inline.value.problems);
      expect(parallel.value.perDeployment).toEqual(inline.value.perDeployment);
      expect(inline.value.problems.filter((p) => p.kind === 'duplicate')).toHaveLength(29);
      expect(inline.value.problems.filter((p) => p.kind === 'invalid')).toHaveLength(30);
      for (const [i, id] of inline.value.deploymentIds.entries()) {
        const a = await audienceOf(id);
        const b = await audienceOf(parallel.value.deploymentIds[i]!);
        expect(b).toEqual(a);
      }
      const all = (await Promise.all(inline.value.deploymentIds.map(audienceOf))).flat();
      expect(all).toHaveLength(30_000 - 30 - 29);
      expect(all.find((r) => r.email === 'user7@example.com')?.fields).toEqual(['Name 7', 'a, b']);
    } finally {
      await pool.close();
    }
  });
});
