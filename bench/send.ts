/**
 * Send throughput to a local SMTP sink (in a process of its own): the whole pipeline (claims, rate limiter, stop checks,
 * settles and books in Postgres, one worker with C lanes) next to raw nodemailer pooled sends
 * (C connections, C messages at a time) of the same messages to the same sink, alternating.
 * Target: pipeline ≥ 0.8 × raw.
 *
 *   npm run bench -- send [messages=4000] [connections=8,32] [rounds=3] [replyDelayMs=0]
 *
 * Each connection count is measured in its own block (raw, pipeline, alternating).
 */
import net from 'node:net';
import { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/lib/logger.js';
import { buildMessage } from '../src/mail/message.js';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createQueues } from '../src/queue/queues.js';
import { createRedis } from '../src/queue/redis.js';
import { startSendingRuntime } from '../src/queue/runtime.js';
import { createCampaignCreator } from '../src/services/campaigns/create-campaign.js';
import { benchStack, cpuByProcess, markdownTable, median, saveResults } from './support.js';

const zeroCpu = () => ({ self: 0, postgres: 0, redis: 0, otherNode: 0 });

const messages = Number(process.argv[2] ?? 4000);
const connectionCounts = (process.argv[3] ?? '8,32').split(',').map(Number);
const rounds = Number(process.argv[4] ?? 3);
// The sink's reply delay at RCPT and at the end of DATA: 0 (a sink on the same machine, the
// worst case for our per-message overhead) or a few ms, like an SMTP relay in the same region.
const replyDelayMs = Number(process.argv[5] ?? 0);
const logger = createLogger('warn');
const content = { fromAddress: 'Bench <bench@example.com>', subject: 'Hello {{first_name}}', bodyText: 'Hi {{first_name}},\n\nA short message.\n', fieldNames: ['first_name'] };

/**
 * The sink runs in a process of its own, as the receiving SMTP server does in production: in
 * this process it would share one event loop with the side being measured, and the measurement
 * would be of the sink's parsing as much as of the sender.
 */
async function sinkProcess(delayMs: number) {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'sink-process.js'), String(delayMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port: number = await new Promise((resolve, reject) => {
    child.stdout.once('data', (data) => resolve(Number(String(data).trim())));
    child.once('exit', (code) => reject(new Error(`the sink process exited (${code})`)));
  });
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.stdin.end();
    }),
  };
}

async function measure(connections: number) {
  const stack = await benchStack();
  const { database } = stack;
  const sink = await sinkProcess(replyDelayMs);
  const config = loadConfig({
    DATABASE_URL: stack.pgUrl, REDIS_URL: stack.redisUrl, SMTP_URL: sink.url, SEND_CONCURRENCY: String(connections),
    SEND_RATE_PER_SECOND: '1000000', PREFETCH_LEAD_SECONDS: '0', REDIS_PREFIX: 'bench',
  });
  const queueConnection = createRedis(stack.redisUrl, 'bench-queues', logger, { blocking: true });
  const queues = createQueues(queueConnection, config.redisPrefix);
  let firstHandOff = 0;
  // The pipeline's CPU is counted from its first hand-off, as its time is: not the CSV import and
  // prefetch that come before it.
  let cpuAtFirstHandOff: ReturnType<typeof cpuByProcess> | undefined;
  let handOffs = 0;
  const runtime = await startSendingRuntime({ config, database, redisUrl: stack.redisUrl, queues, logger, onHandOff: () => {
    handOffs++;
    if (!firstHandOff) {
      firstHandOff = performance.now();
      cpuAtFirstHandOff = cpuByProcess();
    }
  } });
  const create = createCampaignCreator({ database, clock: () => new Date() });

  const raw = async (round: number) => {
    // Nagle off, as our transport has it: otherwise raw nodemailer waits ~40 ms per message for
    // the sink's delayed ACK and the comparison would flatter us.
    const transport = nodemailer.createTransport({
      pool: true, host: '127.0.0.1', port: sink.port, maxConnections: connections, maxMessages: Infinity,
      getSocket: (_options: unknown, callback: (error: Error | null, socket?: { connection: net.Socket }) => void) => {
        const connection = net.connect({ host: '127.0.0.1', port: sink.port, noDelay: true });
        connection.once('connect', () => callback(null, { connection }));
        connection.once('error', (error) => callback(error));
      },
    } as nodemailer.TransportOptions);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (next < messages) {
          const seq = ++next;
          const m = buildMessage(content, { deploymentId: `dep_rawround${round % 10}`, seq, email: `raw${seq}@example.com`, fields: [`Raw${seq}`] });
          await transport.sendMail({ from: m.from, to: m.to, subject: m.subject, text: m.text, messageId: m.messageId, headers: m.headers });
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    transport.close();
    return seconds;
  };

  const pipeline = async (round: number) => {
    const csv = ['email,first_name', ...Array.from({ length: messages }, (_, i) => `p${round}x${i}@example.com,Name${i}`)].join('\n');
    const created = await create({
      name: `bench ${round}`, kind: 'single', deployments: 1, subject: content.subject, from: content.fromAddress, body: content.bodyText,
      sendAt: new Date(), batches: 1, batchIntervalMs: 60_000, strict: false, actor: 'bench', recipients: Readable.from([csv]),
    });
    if (!created.ok) throw new Error(created.reason);
    const deploymentId = created.value.deploymentIds[0]!;
    firstHandOff = 0;
    cpuAtFirstHandOff = undefined;
    handOffs = 0;
    for (;;) {
      const [row] = await database.sql<{ status: string; sent_count: number }[]>`select status, sent_count from deployments where id = ${deploymentId}`;
      if (row!.status === 'completed') {
        if (row!.sent_count !== messages) throw new Error(`sent ${row!.sent_count} of ${messages}`);
        return (performance.now() - firstHandOff) / 1000;
      }
      // Fine polling only near the end: a query every 5 ms all along would charge the benchmark's
      // own load (a Postgres round trip each time) to the pipeline it measures.
      await new Promise((resolve) => setTimeout(resolve, handOffs >= messages ? 5 : 100));
    }
  };

  const rawSeconds: number[] = [];
  const pipelineSeconds: number[] = [];
  const cpu = { raw: zeroCpu(), pipeline: zeroCpu() };
  const timed = async (side: 'raw' | 'pipeline', run: () => Promise<number>) => {
    const started = cpuByProcess();
    const seconds = await run();
    const after = cpuByProcess();
    const before = side === 'pipeline' ? cpuAtFirstHandOff ?? started : started;
    for (const k of Object.keys(after) as (keyof typeof after)[]) cpu[side][k] += after[k] - before[k];
    return seconds;
  };
  try {
    // One round of each first, not counted: both sides start with their code compiled and their
    // connections open (the pipeline's first round would otherwise pay for its JIT and pools).
    await raw(99);
    await pipeline(99);
    for (let round = 0; round < rounds; round++) {
      rawSeconds.push(await timed('raw', () => raw(round)));
      pipelineSeconds.push(await timed('pipeline', () => pipeline(round)));
    }
  } finally {
    await runtime.stop();
    await queues.close();
    queueConnection.disconnect();
    await sink.close();
    await stack.stop();
  }
  const rawRate = messages / median(rawSeconds);
  const pipelineRate = messages / median(pipelineSeconds);
  const perThousand = (side: 'raw' | 'pipeline') => Object.fromEntries(Object.entries(cpu[side]).map(([k, ms]) => [k, Math.round(ms / ((rounds * messages) / 1000))])) as ReturnType<typeof zeroCpu>;
  return { connections, rawSeconds, pipelineSeconds, rawRate, pipelineRate, ratio: pipelineRate / rawRate, cpuPerThousand: { raw: perThousand('raw'), pipeline: perThousand('pipeline') } };
}

const measured = [];
for (const connections of connectionCounts) measured.push(await measure(connections));
const rows = measured.flatMap((m) => [
  [m.connections, 'raw nodemailer pool', median(m.rawSeconds).toFixed(2), Math.round(m.rawRate), '1.00'],
  [m.connections, 'Campaign Guard pipeline', median(m.pipelineSeconds).toFixed(2), Math.round(m.pipelineRate), m.ratio.toFixed(2)],
]);
const cpuRows = measured.flatMap((m) => (['raw', 'pipeline'] as const).map((side) => {
  const c = m.cpuPerThousand[side];
  return [m.connections, side === 'raw' ? 'raw nodemailer pool' : 'Campaign Guard pipeline', c.self, c.postgres, c.redis, c.otherNode, c.self + c.postgres + c.redis + c.otherNode];
}));
const verdicts = measured.map((m) => `${m.connections} connections: ${m.ratio.toFixed(2)} ${m.ratio >= 0.8 ? 'PASS' : 'FAIL'}`).join('; ');
const markdown = `## Send throughput (${messages.toLocaleString('en-US')} messages to a local sink${replyDelayMs ? ` answering RCPT and DATA after ${replyDelayMs} ms` : ''}, ${rounds} rounds each, alternating)\n\n${markdownTable(
  ['connections', 'method', 'median s', 'messages/s', 'vs raw'],
  rows,
)}\n\nCPU per 1,000 messages (ms), where it goes (2 cores are shared by all of them):\n\n${markdownTable(
  ['connections', 'method', 'sender process', 'Postgres', 'Redis', 'sink', 'total'],
  cpuRows,
)}\n\nTarget: pipeline ≥ 0.80 × raw → ${verdicts}`;
console.log(markdown);
await saveResults('send', { messages, rounds, measured }, markdown);
if (measured.some((m) => m.ratio < 0.8)) process.exitCode = 1;
