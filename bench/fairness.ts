/**
 * Deployments sending at once to the same sink (in a process of its own), through one worker:
 * 1, 2, 8 and 32 deployments sharing the same total of messages, all due at the same moment.
 * Per count: total throughput (from the first hand-off to the last deployment's completion) next
 * to one deployment alone, Jain's fairness index over the deployments' rates in the window where
 * all of them were sending, and the longest wait from the send time to a deployment's first
 * hand-off. Targets: throughput within 10% of one alone; Jain ≥ 0.95.
 *
 *   npm run bench -- fairness [messages=6000] [deployments=1,2,8,32] [connections=8] [ratePerSecond=1000000] [rounds=3]
 *
 * The counts alternate, round after round (medians are shown), so a machine's changing load
 * falls on all of them alike.
 */
import { Readable } from 'node:stream';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/lib/logger.js';
import { createCampaignCreator } from '../src/services/campaigns/create-campaign.js';
import { startSinkProcess } from './sinks.js';
import { benchStack, markdownTable, median, saveResults, startBenchWorker } from './support.js';

const messages = Number(process.argv[2] ?? 6000);
const counts = (process.argv[3] ?? '1,2,8,32').split(',').map(Number);
const connections = Number(process.argv[4] ?? 8);
const ratePerSecond = Number(process.argv[5] ?? 1_000_000);
const rounds = Number(process.argv[6] ?? 3);
const logger = createLogger('warn');
const LEAD_MS = 3000;

/** Jain's fairness index: 1 when all rates are equal, 1/n when one deployment has everything. */
export function jain(rates: number[]): number {
  const sum = rates.reduce((a, b) => a + b, 0);
  const squares = rates.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : (sum * sum) / (rates.length * squares);
}

const stack = await benchStack();
const sink = await startSinkProcess(0);
const config = loadConfig({
  DATABASE_URL: stack.pgUrl, REDIS_URL: stack.redisUrl, SMTP_URL: sink.url, SEND_CONCURRENCY: String(connections),
  SEND_RATE_PER_SECOND: String(ratePerSecond), PREFETCH_LEAD_SECONDS: '60', REDIS_PREFIX: 'bench-fair',
});
const handOffs = new Map<string, number[]>();
const worker = await startBenchWorker(stack, config, logger, (deploymentId) => {
  const times = handOffs.get(deploymentId);
  if (times) times.push(performance.timeOrigin + performance.now());
});
const create = createCampaignCreator({ database: stack.database, clock: () => new Date() });

async function round(deployments: number, label: string) {
  const each = Math.floor(messages / deployments);
  const sendAt = new Date(Date.now() + LEAD_MS + deployments * 50);
  const ids: string[] = [];
  for (let d = 0; d < deployments; d++) {
    const csv = ['email,first_name', ...Array.from({ length: each }, (_, i) => `${label}d${d}x${i}@example.com,Name${i}`)].join('\n');
    const created = await create({
      name: `fair ${label} ${d}`, kind: 'single', deployments: 1, subject: 'Hello {{first_name}}', from: 'Bench <bench@example.com>',
      body: 'Hi {{first_name}},\n\nA short message.\n', sendAt, batches: 1, batchIntervalMs: 60_000, strict: false, actor: 'bench', recipients: Readable.from([csv]),
    });
    if (!created.ok) throw new Error(created.reason);
    ids.push(created.value.deploymentIds[0]!);
    handOffs.set(created.value.deploymentIds[0]!, []);
  }
  for (;;) {
    const rows = await stack.database.sql<{ status: string }[]>`select status from deployments where id = any(${ids}::text[])`;
    if (rows.every((r) => r.status === 'completed')) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const times = ids.map((id) => handOffs.get(id)!);
  const first = Math.min(...times.map((t) => t[0]!));
  const last = Math.max(...times.map((t) => t.at(-1)!));
  const allFrom = Math.max(...times.map((t) => t[0]!));
  const allTo = Math.min(...times.map((t) => t.at(-1)!));
  const window = Math.max(1, allTo - allFrom);
  const rates = times.map((t) => t.filter((at) => at >= allFrom && at <= allTo).length / (window / 1000));
  const firstWait = Math.max(...times.map((t) => t[0]! - sendAt.getTime()));
  for (const id of ids) handOffs.delete(id);
  return { deployments, each, seconds: (last - first) / 1000, throughput: (each * deployments) / ((last - first) / 1000), jain: jain(rates), minRate: Math.min(...rates), maxRate: Math.max(...rates), firstWaitMs: firstWait };
}

type Round = Awaited<ReturnType<typeof round>>;
const byCount = new Map<number, Round[]>(counts.map((n) => [n, []]));
try {
  await round(1, 'warm'); // not counted: compiled code, open connections and pools on both sides
  for (let r = 0; r < rounds; r++) for (const deployments of counts) byCount.get(deployments)!.push(await round(deployments, `r${r}n${deployments}`));
} finally {
  await worker.stop();
  await sink.close();
  await stack.stop();
}

/** Each count's median round by throughput. */
const measured = counts.map((n) => {
  const all = byCount.get(n)!;
  const mid = median(all.map((m) => m.throughput));
  return { ...all.find((m) => m.throughput === mid) ?? all.sort((a, b) => a.throughput - b.throughput)[Math.floor(all.length / 2)]!, throughputs: all.map((m) => Math.round(m.throughput)), jains: all.map((m) => m.jain) };
});
const alone = measured.find((m) => m.deployments === 1)?.throughput ?? measured[0]!.throughput;
const rows = measured.map((m) => [
  m.deployments, m.each, m.seconds.toFixed(2), Math.round(m.throughput), m.throughputs.join(', '), (m.throughput / alone).toFixed(2), m.jain.toFixed(3),
  `${m.minRate.toFixed(1)}–${m.maxRate.toFixed(1)}`, Math.round(m.firstWaitMs),
]);
const pass = (m: (typeof measured)[number]) => m.throughput >= 0.9 * alone && m.jain >= 0.95;
const verdicts = measured.map((m) => `${m.deployments}: ${pass(m) ? 'PASS' : 'FAIL'}`).join('; ');
const rateText = ratePerSecond >= 1_000_000 ? 'no rate limit' : `SEND_RATE_PER_SECOND ${ratePerSecond}`;
const markdown = `## Fair sharing (${messages.toLocaleString('en-US')} messages split between N deployments due at once, one worker, ${connections} connections, ${rateText}, ${rounds} rounds alternating)\n\n${markdownTable(
  ['deployments', 'messages each', 'seconds', 'messages/s (median round)', 'every round', 'vs one alone', "Jain's index", 'per-deployment rate (min–max /s)', 'longest wait to first hand-off (ms)'],
  rows,
)}\n\nTargets: throughput ≥ 0.90 × one alone and Jain's index ≥ 0.95 → ${verdicts}`;
console.log(markdown);
await saveResults('fairness', { messages, connections, ratePerSecond, rounds, measured, everyRound: Object.fromEntries(byCount) }, markdown);
if (!measured.every(pass)) process.exitCode = 1;
