/**
 * Cancel latency (what a responder waits for, from the call to the committed, announced outcome)
 * for deployments of 1,000, 100,000 and 1,000,000 recipients, prefetched and sending; next to it,
 * the naive cancel of a job-per-recipient design: the same number of waiting BullMQ jobs removed
 * one by one. Target: 1M within 2× of 1k, p99 < 100 ms. Also: hand-offs after a cancel commits
 * with a worker sending at full speed.
 *
 *   npm run bench -- cancel [samples=20] [naiveMax=100000]
 */
import { Readable } from 'node:stream';
import { Queue } from 'bullmq';
import { loadConfig } from '../src/config.js';
import type { DatabaseHandle } from '../src/db/client.js';
import { startBatch } from '../src/db/queries/batch-start.js';
import { createLogger } from '../src/lib/logger.js';
import { sleep } from '../src/lib/processes.js';
import { startSmtpSink } from '../src/mail/sink.js';
import { createQueues } from '../src/queue/queues.js';
import { createRedis } from '../src/queue/redis.js';
import { startSendingRuntime } from '../src/app/sending-runtime.js';
import { createStopAnnouncer } from '../src/queue/stop-signal.js';
import { createAccessService } from '../src/services/access.js';
import { createAudienceWorkerPool } from '../src/services/campaigns/audience-workers.js';
import { createCampaignCreator } from '../src/services/campaigns/create-campaign.js';
import { createControlService } from '../src/services/control.js';
import { createPauseResume } from '../src/services/sending/pause-resume.js';
import { createPrefetchProcessor } from '../src/services/sending/prefetch-job.js';
import { benchStack, markdownTable, percentile, saveResults } from './support.js';

const samples = Number(process.argv[2] ?? 20);
const naiveMax = Number(process.argv[3] ?? 100_000);
const sizes = [1_000, 100_000, 1_000_000];
const logger = createLogger('warn');

async function sendingDeployment(database: DatabaseHandle, recipients: number, label: string, validate: ReturnType<typeof createAudienceWorkerPool>['validate']) {
  function* lines() {
    yield 'email,first_name\n';
    for (let i = 0; i < recipients; i += 10_000) {
      let chunk = '';
      for (let j = i; j < Math.min(recipients, i + 10_000); j++) chunk += `${label}${j}@example.com,N${j}\n`;
      yield chunk;
    }
  }
  const created = await createCampaignCreator({ database, clock: () => new Date(), validateBlock: validate })({
    name: label, kind: 'single', deployments: 1, subject: 's', from: 'bench@example.com', body: 'hi', sendAt: new Date(),
    batches: 3, batchIntervalMs: 60_000, strict: false, actor: 'bench', recipients: Readable.from(lines()),
  });
  if (!created.ok) throw new Error(created.reason);
  const deploymentId = created.value.deploymentIds[0]!;
  await createPrefetchProcessor({ sql: database.sql, logger })(deploymentId);
  const [first] = await database.sql<{ id: string }[]>`select id from batches where deployment_id = ${deploymentId} order by position limit 1`;
  await startBatch(database.sql, first!.id);
  return { deploymentId, campaignId: created.value.campaignId };
}

async function main() {
  const stack = await benchStack();
  const { database } = stack;
  const workers = createAudienceWorkerPool();
  const announceConnection = createRedis(stack.redisUrl, 'bench-announce', logger);
  const announcer = createStopAnnouncer({ redis: announceConnection, prefix: 'bench', logger });
  const service = createControlService({ database, announcer, pauseResume: createPauseResume({ database, announcer }), logger });
  await createAccessService({ db: database.db, clock: () => new Date() }).grant('U_BENCH', 'responder', 'bench');
  const latency: { recipients: number; p50: number; p99: number; max: number; naiveSeconds: number | null }[] = [];
  let postCancel: { handOffs: number; lastMs: number; lanes: number };

  try {
    for (const recipients of sizes) {
      const { deploymentId, campaignId } = await sendingDeployment(database, recipients, `c${recipients}x`, workers.validate);
      const times: number[] = [];
      // One unmeasured round first (the first size only): the process's first cancel prepares every
      // statement of the path, which a running service has done long before an incident.
      for (let i = recipients === sizes[0] ? -1 : 0; i < samples; i++) {
        const started = performance.now();
        const outcome = await service.cancel({ target: deploymentId, actor: 'U_BENCH' });
        if (i >= 0) times.push(performance.now() - started);
        if (outcome.outcome !== 'cancelled') throw new Error(`cancel came back ${outcome.outcome}`);
        await service.idle(); // the ledger marking that follows is not part of the answer
        // Put it back to sending for the next sample (O(1), like the cancel itself).
        await database.sql`update deployments set status = 'sending', cancelled_by = null, cancelled_at = null, cancel_reason = null, cancelled_count = 0 where id = ${deploymentId}`;
        await database.sql`update batches set status = case when position = 1 then 'sending' else 'scheduled' end, cancelled_by = null, cancelled_at = null, cancelled_count = 0 where deployment_id = ${deploymentId}`;
        await database.sql`update campaigns set status = 'sending', cancelled_by = null, cancelled_at = null where id = ${campaignId}`;
        await database.sql`delete from slack_outbox where dedupe_key = ${`cancel:${deploymentId}`}`;
      }
      let naiveSeconds: number | null = null;
      if (recipients <= naiveMax) {
        const queue = new Queue(`naive-${recipients}`, { connection: { host: '127.0.0.1', port: Number(new URL(stack.redisUrl).port) }, prefix: 'naive' });
        for (let i = 0; i < recipients; i += 5000) {
          await queue.addBulk(Array.from({ length: Math.min(5000, recipients - i) }, (_, j) => ({ name: 'recipient', data: { seq: i + j }, opts: { delay: 3_600_000 } })));
        }
        const jobs = await queue.getJobs(['delayed', 'waiting'], 0, -1);
        const started = performance.now();
        for (const job of jobs) await job.remove();
        naiveSeconds = (performance.now() - started) / 1000;
        await queue.obliterate({ force: true });
        await queue.close();
      }
      latency.push({ recipients, p50: percentile(times, 50), p99: percentile(times, 99), max: Math.max(...times), naiveSeconds });
    }

    // Hand-offs after a cancel commits, one worker at full speed.
    const sink = await startSmtpSink({ keep: 0 });
    const config = loadConfig({ DATABASE_URL: stack.pgUrl, REDIS_URL: stack.redisUrl, SMTP_URL: sink.url, SEND_CONCURRENCY: '8', SEND_RATE_PER_SECOND: '100000', PREFETCH_LEAD_SECONDS: '0', REDIS_PREFIX: 'bench' });
    const queueConnection = createRedis(stack.redisUrl, 'bench-queues', logger, { blocking: true });
    const queues = createQueues(queueConnection, 'bench');
    const handOffs: number[] = [];
    const runtime = await startSendingRuntime({ config, database, redisUrl: stack.redisUrl, queues, logger, onHandOff: () => handOffs.push(performance.now()) });
    const csv = ['email', ...Array.from({ length: 20_000 }, (_, i) => `live${i}@example.com`)].join('\n');
    const live = await createCampaignCreator({ database, clock: () => new Date() })({
      name: 'live', kind: 'single', deployments: 1, subject: 's', from: 'bench@example.com', body: 'hi', sendAt: new Date(),
      batches: 1, batchIntervalMs: 60_000, strict: false, actor: 'bench', recipients: Readable.from([csv]),
    });
    if (!live.ok) throw new Error(live.reason);
    while (handOffs.length < 2000) await sleep(5);
    await service.cancel({ target: live.value.deploymentIds[0]!, actor: 'U_BENCH' });
    const committed = performance.now();
    await sleep(1500);
    const late = handOffs.filter((t) => t > committed);
    postCancel = { handOffs: late.length, lastMs: late.length ? Math.max(...late) - committed : 0, lanes: 8 };
    await runtime.stop();
    await queues.close();
    queueConnection.disconnect();
    await sink.close();
  } finally {
    announceConnection.disconnect();
    await workers.close();
    await stack.stop();
  }

  const small = latency[0]!;
  const large = latency.at(-1)!;
  const flat = large.p50 <= 2 * small.p50;
  const fast = latency.every((l) => l.p99 < 100);
  const naiveFor = (l: (typeof latency)[number]) =>
    l.naiveSeconds === null
      ? `not run (about ${Math.round(((latency.find((x) => x.naiveSeconds !== null && x.recipients > 1000)?.naiveSeconds ?? 0) * l.recipients) / 100_000)} s by the line above; pass naiveMax=${l.recipients} to run it)`
      : `${l.naiveSeconds.toFixed(2)} s (${Math.round((l.naiveSeconds * 1000) / l.p50)}× slower)`;
  const markdown = `## Cancel (${samples} samples per size; deployment prefetched and sending)\n\n${markdownTable(
    ['recipients', 'p50 ms', 'p99 ms', 'max ms', 'naive: remove that many waiting BullMQ jobs one by one'],
    latency.map((l) => [l.recipients, l.p50.toFixed(1), l.p99.toFixed(1), l.max.toFixed(1), naiveFor(l)]),
  )}\n\nTarget: 1M within 2× of 1k (p50 ${large.p50.toFixed(1)} vs ${small.p50.toFixed(1)} ms → ${flat ? 'PASS' : 'FAIL'}), p99 < 100 ms (${fast ? 'PASS' : 'FAIL'}).\n\nHand-offs after the cancel committed, one worker with ${postCancel.lanes} lanes at full speed: ${postCancel.handOffs} (last ${postCancel.lastMs.toFixed(0)} ms after).`;
  console.log(markdown);
  await saveResults('cancel', { samples, latency, postCancel, flat, fast }, markdown);
  if (!flat || !fast) process.exitCode = 1;
}

await main();
