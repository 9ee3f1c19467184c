import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { checkLedger } from '../../support/checker.js';
import { createStatusService, type SingleDeploymentReport } from '../../../src/services/status.js';
import { deploymentRow, startWorker, testConfig, waitFor } from '../../support/sending.js';

/**
 * Deployments sending at once share the worker's lanes and the global rate: a small deployment
 * created while a big one sends starts at once and gets its share, as do the deployments of one
 * `multi` campaign, and a campaign's priority weighs its share.
 */
let db: TestDatabase;
let sink: SmtpSink;
let stopWorker: (() => Promise<void>) | undefined;
const RATE = 100;

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink();
});
afterEach(async () => {
  await stopWorker?.();
  stopWorker = undefined;
});
afterAll(async () => {
  await sink.close();
  await db.drop();
});

async function worker() {
  const started = await startWorker(db, testConfig(db, { SMTP_URL: sink.url, SEND_CONCURRENCY: '4', SEND_RATE_PER_SECOND: String(RATE) }));
  stopWorker = () => started.stop();
}

/** When the sink received each of a deployment's messages (ms since the epoch), in order. */
const arrivals = (deploymentId: string) => sink.received.filter((m) => m.delivery?.startsWith(`${deploymentId}.`)).map((m) => m.at);

/** Messages each deployment got in the window where all of them were sending, as rates (per second). */
function ratesWhileAllSend(deploymentIds: string[], until?: number) {
  const times = deploymentIds.map(arrivals);
  const from = Math.max(...times.map((t) => t[0]!));
  const to = until ?? Math.min(...times.map((t) => t.at(-1)!));
  const seconds = (to - from) / 1000;
  const rates = times.map((t) => t.filter((at) => at >= from && at <= to).length / seconds);
  return { seconds, rates, total: rates.reduce((a, b) => a + b, 0) };
}

const completed = (id: string) => waitFor(async () => (await deploymentRow(db, id)).status === 'completed', { timeoutMs: 90_000, what: `${id} to complete` });

describe('deployments sending at once', () => {
  it('a small one created while a big one sends starts within 2 s, gets half the rate and ends first', async () => {
    await worker();
    const big = (await createCampaignOrThrow(db, { name: 'Big', csv: audienceCsv(2500, { domain: () => 'big.example' }) })).deploymentIds[0]!;
    await waitFor(async () => arrivals(big).length >= 200, { timeoutMs: 30_000, what: 'the big one under way' });

    const sendAt = new Date();
    const small = (await createCampaignOrThrow(db, { name: 'Small', csv: audienceCsv(300, { domain: () => 'small.example' }) }, sendAt)).deploymentIds[0]!;
    await waitFor(async () => arrivals(small).length > 0, { timeoutMs: 30_000, what: "the small one's first message" });
    expect(arrivals(small)[0]! - sendAt.getTime(), 'ms from its send time to its first message').toBeLessThanOrEqual(2000);

    // Both say they hand messages over, and when they last did.
    const status = createStatusService({ db: db.db });
    for (const id of [big, small]) {
      const report = (await status.lookup(id)) as { ok: true; value: SingleDeploymentReport };
      expect(report.value.deployment.pace, id).toMatchObject({ state: 'handing-over' });
      expect(Date.now() - report.value.deployment.lastHandOffAt!.getTime(), id).toBeLessThan(5000);
    }

    await completed(small);
    const bigNow = await deploymentRow(db, big);
    expect(bigNow.status, 'the big one is still sending when the small one ends').toBe('sending');
    const { seconds, rates, total } = ratesWhileAllSend([big, small]);
    expect(seconds).toBeGreaterThan(3);
    for (const rate of rates) {
      expect(rate, `rates ${rates.map((r) => r.toFixed(1)).join(' / ')} of ${total.toFixed(1)}/s`).toBeGreaterThanOrEqual(0.75 * (total / 2));
      expect(rate, `rates ${rates.map((r) => r.toFixed(1)).join(' / ')} of ${total.toFixed(1)}/s`).toBeLessThanOrEqual(1.25 * (total / 2));
    }

    await completed(big);
    for (const id of [big, small]) {
      expect(await checkLedger(db, id, sink)).toMatchObject({ duplicates: 0, lost: 0, phantom: 0, unknown: 0, booksMatch: true });
    }
  }, 120_000);

  it("the deployments of one multi campaign send together, each with a third of the rate", async () => {
    await worker();
    const sendAt = new Date();
    const { deploymentIds } = await createCampaignOrThrow(db, { name: 'Multi', kind: 'multi', deployments: 3, csv: audienceCsv(1800, { domain: () => 'multi.example' }) }, sendAt);
    await waitFor(async () => deploymentIds.every((id) => arrivals(id).length > 0), { timeoutMs: 30_000, what: 'every deployment under way' });
    for (const id of deploymentIds) expect(arrivals(id)[0]! - sendAt.getTime(), `ms to ${id}'s first message`).toBeLessThanOrEqual(2000);

    await Promise.all(deploymentIds.map(completed));
    const { seconds, rates, total } = ratesWhileAllSend(deploymentIds);
    expect(seconds).toBeGreaterThan(3);
    for (const rate of rates) {
      expect(rate, `rates ${rates.map((r) => r.toFixed(1)).join(' / ')} of ${total.toFixed(1)}/s`).toBeGreaterThanOrEqual(0.75 * (total / 3));
      expect(rate, `rates ${rates.map((r) => r.toFixed(1)).join(' / ')} of ${total.toFixed(1)}/s`).toBeLessThanOrEqual(1.25 * (total / 3));
    }
    for (const id of deploymentIds) {
      expect(await checkLedger(db, id, sink)).toMatchObject({ duplicates: 0, lost: 0, phantom: 0, unknown: 0, booksMatch: true });
    }
  }, 120_000);

  it('deployments sharing the lanes share the statements too: claims of several deployments go in one, about a lane-full each', async () => {
    const started = await startWorker(db, testConfig(db, { SMTP_URL: sink.url, SEND_CONCURRENCY: '8' }));
    stopWorker = () => started.stop();
    const { deploymentIds } = await createCampaignOrThrow(db, { name: 'Eight', kind: 'multi', deployments: 8, csv: audienceCsv(1200, { domain: () => 'eight.example' }) }, new Date());
    await Promise.all(deploymentIds.map(completed));
    // Each statement claims under its own token, kept on the rows it claimed.
    const statements = await db.sql<{ deployments: number; claims: number }[]>`
      select count(distinct deployment_id)::int as deployments, count(*)::int as claims
      from deliveries where deployment_id = any(${deploymentIds}::text[]) group by claimed_by`;
    const claims = statements.reduce((sum, s) => sum + s.claims, 0);
    expect(claims).toBe(1200);
    // One deployment alone gets about 7 claims a statement with 8 lanes; statements of one
    // deployment each, with the lanes spread over eight, get about one.
    expect(statements.length, `${statements.length} statements for 1,200 claims`).toBeLessThanOrEqual(1200 / 3);
    expect(Math.max(...statements.map((s) => s.deployments)), 'deployments in one statement').toBeGreaterThanOrEqual(4);
    for (const id of deploymentIds) {
      expect(await checkLedger(db, id, sink)).toMatchObject({ duplicates: 0, lost: 0, phantom: 0, unknown: 0, booksMatch: true });
    }
  }, 120_000);

  it('a high-priority campaign gets twice the share of a normal one', async () => {
    await worker();
    const sendAt = new Date();
    const normal = (await createCampaignOrThrow(db, { name: 'Normal', csv: audienceCsv(1500, { domain: () => 'normal.example' }) }, sendAt)).deploymentIds[0]!;
    const high = (await createCampaignOrThrow(db, { name: 'High', priority: 'high', csv: audienceCsv(800, { domain: () => 'high.example' }) }, sendAt)).deploymentIds[0]!;
    await completed(high);
    const { rates, total } = ratesWhileAllSend([normal, high]);
    expect(rates[1]! / rates[0]!, `high ${rates[1]!.toFixed(1)}/s, normal ${rates[0]!.toFixed(1)}/s of ${total.toFixed(1)}/s`).toBeGreaterThanOrEqual(2 * 0.75);
    expect(rates[1]! / rates[0]!, `high ${rates[1]!.toFixed(1)}/s, normal ${rates[0]!.toFixed(1)}/s of ${total.toFixed(1)}/s`).toBeLessThanOrEqual(2 * 1.25);
    await completed(normal);
  }, 120_000);

  it('status tells a sending deployment that hands nothing over (its worker gone) as waiting, since its last hand-off', async () => {
    await worker();
    const id = (await createCampaignOrThrow(db, { name: 'Stranded', csv: audienceCsv(3000, { domain: () => 'stranded.example' }) })).deploymentIds[0]!;
    await waitFor(async () => arrivals(id).length >= 100, { what: 'sending under way' });
    await stopWorker!();
    stopWorker = undefined;
    const status = createStatusService({ db: db.db });
    const report = async () => ((await status.lookup(id)) as { ok: true; value: SingleDeploymentReport }).value.deployment;
    const stranded = await waitFor(async () => {
      const d = await report();
      return d.pace?.state === 'waiting' && d;
    }, { timeoutMs: 15_000, what: 'status to say it waits' });
    expect(stranded.status).toBe('sending');
    expect(stranded.pace).toEqual({ state: 'waiting', since: stranded.lastHandOffAt, lastHandOffAt: stranded.lastHandOffAt });
    expect(Math.abs(stranded.lastHandOffAt!.getTime() - arrivals(id).at(-1)!)).toBeLessThan(2000);
  }, 60_000);
});
