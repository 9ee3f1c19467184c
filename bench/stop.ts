/**
 * Hand-offs after a stop: how many messages still go to the transport once a pause commits,
 * (a) with Campaign Guard's check before every hand-off (stop set fed by Redis pub/sub), and
 * (b) with a check only once per send job ("per chunk": a job claims its ~250 recipients and
 * sends them all). Same deployment size, rate, lanes and moment of the stop.
 *
 *   npm run bench -- stop [recipients=3000] [rate=1000]
 */
import { Readable } from 'node:stream';
import { loadConfig } from '../src/config.js';
import type { DatabaseHandle } from '../src/db/client.js';
import { parseFieldLine } from '../src/db/field-line.js';
import { contentForDeployment, startBatch } from '../src/db/queries/batch-start.js';
import { settleAndClaim } from '../src/db/queries/claims.js';
import { createLogger } from '../src/lib/logger.js';
import { sleep } from '../src/lib/processes.js';
import { buildMessage } from '../src/domain/message.js';
import { startSmtpSink } from '../src/mail/sink.js';
import { createSmtpTransport } from '../src/mail/transport.js';
import { RECIPIENTS_PER_SEND_JOB } from '../src/domain/send-jobs.js';
import { createQueues } from '../src/queue/queues.js';
import { createRedis } from '../src/queue/redis.js';
import { startSendingRuntime } from '../src/app/sending-runtime.js';
import { createStopAnnouncer } from '../src/queue/stop-signal.js';
import { createCampaignCreator } from '../src/services/campaigns/create-campaign.js';
import { createPauseResume } from '../src/services/sending/pause-resume.js';
import { createPrefetchProcessor } from '../src/services/sending/prefetch-job.js';
import { benchStack, markdownTable, saveResults } from './support.js';

const recipients = Number(process.argv[2] ?? 3000);
const rate = Number(process.argv[3] ?? 1000);
const lanes = 8;
// Stop mid-way through a send job (1.5 jobs' worth of hand-offs), the same moment for both.
const stopAfterHandOffs = Math.floor(RECIPIENTS_PER_SEND_JOB * 1.5);
const logger = createLogger('warn');

async function newDeployment(database: DatabaseHandle, label: string) {
  const csv = ['email,first_name', ...Array.from({ length: recipients }, (_, i) => `${label}${i}@example.com,N${i}`)].join('\n');
  const created = await createCampaignCreator({ database, clock: () => new Date() })({
    name: label, kind: 'single', deployments: 1, subject: 's', from: 'bench@example.com', body: 'hi',
    sendAt: new Date(), batches: 1, batchIntervalMs: 60_000, strict: false, actor: 'bench', recipients: Readable.from([csv]),
  });
  if (!created.ok) throw new Error(created.reason);
  return created.value.deploymentIds[0]!;
}

async function main() {
  const stack = await benchStack();
  const { database } = stack;
  const sink = await startSmtpSink({ keep: 0 });
  const announceConnection = createRedis(stack.redisUrl, 'bench-announce', logger);
  const control = createPauseResume({ database, announcer: createStopAnnouncer({ redis: announceConnection, prefix: 'bench', logger }) });
  const results: { method: string; after: number; lastMs: number }[] = [];

  try {
    // (a) The pipeline: per-hand-off check.
    {
      const config = loadConfig({
        DATABASE_URL: stack.pgUrl, REDIS_URL: stack.redisUrl, SMTP_URL: sink.url, SEND_CONCURRENCY: String(lanes),
        SEND_RATE_PER_SECOND: String(rate), PREFETCH_LEAD_SECONDS: '0', REDIS_PREFIX: 'bench',
      });
      const queueConnection = createRedis(stack.redisUrl, 'bench-queues', logger, { blocking: true });
      const queues = createQueues(queueConnection, 'bench');
      const handOffs: number[] = [];
      const runtime = await startSendingRuntime({ config, database, redisUrl: stack.redisUrl, queues, logger, onHandOff: () => handOffs.push(performance.now()) });
      const deploymentId = await newDeployment(database, 'a');
      while (handOffs.length < stopAfterHandOffs) await sleep(1);
      const stoppedAt = performance.now();
      await control.pause({ deploymentId }, 'bench');
      await sleep(1500);
      const late = handOffs.filter((t) => t > stoppedAt);
      results.push({ method: 'check before every hand-off (Campaign Guard)', after: late.length, lastMs: late.length ? Math.max(...late) - stoppedAt : 0 });
      await runtime.stop();
      await queues.close();
      queueConnection.disconnect();
    }
    // (b) A per-chunk check: each job checks once, claims its range, and sends all of it.
    {
      const deploymentId = await newDeployment(database, 'b');
      await createPrefetchProcessor({ sql: database.sql, logger })(deploymentId);
      const [batch] = await database.sql<{ id: string }[]>`select id from batches where deployment_id = ${deploymentId}`;
      await startBatch(database.sql, batch!.id);
      const row = (await contentForDeployment(database.sql, deploymentId))!;
      const content = { fromAddress: row.from_address, subject: row.subject, bodyText: row.body_text, fieldNames: row.field_names };
      const transport = createSmtpTransport({ url: sink.url, connections: lanes });
      const handOffs: number[] = [];
      let stoppedAt = Number.POSITIVE_INFINITY;
      const sender = (async () => {
        for (let from = 1; from <= recipients; from += RECIPIENTS_PER_SEND_JOB) {
          const [{ status }] = (await database.sql`select status from deployments where id = ${deploymentId}`) as unknown as [{ status: string }];
          if (status !== 'sending') return; // the per-chunk check
          const range = { deploymentId, batchId: batch!.id, fromSeq: from, toSeq: Math.min(recipients, from + RECIPIENTS_PER_SEND_JOB - 1) };
          const step = { claimToken: 'naive/1', leaseSeconds: 60, released: [], voided: [] };
          const seqs = Array.from({ length: range.toSeq - range.fromSeq + 1 }, (_, i) => range.fromSeq + i);
          const claimed = await settleAndClaim(database.sql, { ...step, claims: seqs.map((seq) => ({ range, seq })), settled: [] });
          const queue = [...claimed];
          const started = performance.now();
          let sent = 0;
          await Promise.all(
            Array.from({ length: lanes }, async () => {
              for (let next = queue.shift(); next; next = queue.shift()) {
                const due = started + (sent++ * 1000) / rate; // the same send rate
                if (due > performance.now()) await sleep(due - performance.now());
                handOffs.push(performance.now());
                const m = buildMessage(content, { deploymentId, seq: next.seq, email: next.email, fields: parseFieldLine(next.fields) });
                await transport.send(m);
              }
            }),
          );
          await settleAndClaim(database.sql, { ...step, claims: [], settled: claimed.map((c) => ({ deploymentId, row: { seq: c.seq, status: 'sent' as const, code: 250, reply: null, messageId: null } })) });
        }
      })();
      while (handOffs.length < stopAfterHandOffs) await sleep(1);
      stoppedAt = performance.now();
      await control.pause({ deploymentId }, 'bench');
      await sender;
      const late = handOffs.filter((t) => t > stoppedAt);
      results.push({ method: 'check once per send job (per chunk)', after: late.length, lastMs: late.length ? Math.max(...late) - stoppedAt : 0 });
      await transport.close();
    }
  } finally {
    announceConnection.disconnect();
    await sink.close();
    await stack.stop();
  }

  const [ours, naive] = results;
  const markdown = `## Hand-offs after a stop (${recipients.toLocaleString('en-US')} recipients, ${rate}/s, ${lanes} lanes, pause after ${stopAfterHandOffs} hand-offs)\n\n${markdownTable(
    ['stop check', 'hand-offs after the pause committed', 'last one, ms after'],
    results.map((r) => [r.method, r.after, r.lastMs.toFixed(0)]),
  )}\n\nPer-hand-off check: ${ours!.after} late hand-offs vs ${naive!.after} with a per-chunk check.`;
  console.log(markdown);
  await saveResults('stop', { recipients, rate, lanes, results }, markdown);
}

await main();
