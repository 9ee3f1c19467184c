import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDirs, runCli, STACK_LINE } from '../../support/cli.js';
import { createTestDatabase, redisUrl, uniquePrefix, type TestDatabase } from '../../support/database.js';

/** `campaign-guard demo`: the whole story, told and finished with exit 0 well within 3 minutes. */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
  await removeTempDirs();
});

describe('demo', () => {
  it('sends, raises the bounce alert, cancels as a responder, confirms and reconciles', async () => {
    const started = Date.now();
    const dataDir = await makeTempDir();
    const result = await runCli(['demo'], { DATABASE_URL: db.url, REDIS_URL: redisUrl(), REDIS_PREFIX: uniquePrefix('demo'), DATA_DIR: dataDir }, { timeoutMs: 180_000 });
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(Date.now() - started).toBeLessThan(180_000);
    const out = result.stdout;
    // The story is clean text: the logs (the alert monitor's above all) went to the file it names.
    const logFile = path.join(dataDir, 'demo.log');
    expect(out.split('\n')[0]).toBe(`Logs of this run: ${logFile}`);
    expect(`${out}\n${result.stderr}`).not.toMatch(/^\s*\{/m);
    const logged = (await readFile(logFile, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { component?: string; change?: string });
    expect(logged.some((line) => line.component === 'alert-monitor' && line.change === 'opened')).toBe(true);
    for (const step of ['1. A multi campaign', '2. Sending to the local capture sink', '3. The monitor raised an alert', '4. The on-call responder', '5. The halt', '6. Reconciliation']) expect(out).toContain(step);
    expect(out).toMatch(/Bounce rate [\d.]+%\* \(critical/);
    expect(out).toContain('old-list.invalid');
    expect(out).toMatch(/answered in \d+ ms: Cancelled cmp_\w+: \d+ already sent, \d+ in flight \(cannot be recalled\), \d+ will never be sent\. This cannot be undone/);
    expect(out).toContain('Slack message edited in place');
    expect(out).toContain("Slack reply in the alert's thread");
    expect(result.stderr).not.toMatch(STACK_LINE);
    // The metrics it printed agree with its own reconciliation table.
    const metric = (series: string) => Number(new RegExp(`^\\s*${series.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(out)?.[1]);
    const table = [...out.matchAll(/cancelled\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/g)].map((m) => m.slice(1).map(Number));
    expect(table).toHaveLength(2);
    // Both lists send at once (fair sharing); the clean one bounces nothing, and every row accounts for its 600.
    expect(table[0]![1]).toBe(0);
    for (const row of table) expect(row.reduce((a, b) => a + b, 0)).toBe(600);
    expect(metric('campaign_guard_handoffs_total{outcome="sent"}')).toBe(table[0]![0]! + table[1]![0]!);
    expect(metric('campaign_guard_handoffs_total{outcome="bounced"}')).toBe(table[0]![1]! + table[1]![1]!);
    expect(metric('campaign_guard_alerts_total{metric="bounce",severity="critical",change="opened"}')).toBe(1);
    expect(metric('campaign_guard_cancel_seconds_count{outcome="cancelled"}')).toBe(1);
    expect(metric('campaign_guard_post_stop_handoffs_total')).toBeLessThanOrEqual(8);
    expect(metric('campaign_guard_slack_outbox_pending')).toBe(0);
    // The books agree with what the demo printed: everything sent or never sent, nothing in flight.
    const rows = await db.sql`select status, in_flight_count, total_count, sent_count + bounced_count + failed_count + unknown_count + cancelled_count as accounted from deployments`;
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r).toMatchObject({ status: 'cancelled', in_flight_count: 0, accounted: r.total_count });
  }, 200_000);
});
