/**
 * Send throughput to a local SMTP sink (in a process of its own): the whole pipeline (claims, rate limiter, stop checks,
 * settles and books in Postgres, one worker with C lanes) next to raw nodemailer pooled sends
 * (C connections, C messages at a time) of the same messages to the same sink, alternating.
 * Target: pipeline ≥ 0.8 × raw.
 *
 *   npm run bench -- send [messages=4000] [connections=8,32] [rounds=3] [replyDelayMs=0] [sinks=ours,postfix]
 *
 * Each sink and connection count is measured in its own block (raw, pipeline, alternating). Against
 * Postfix's smtp-sink, each round also times `smtp-source -d` (Postfix's C load generator, the
 * same connections kept open, a payload of our messages' size): the protocol's ceiling here.
 */
import net from 'node:net';
import { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/lib/logger.js';
import { buildMessage } from '../src/domain/message.js';
import { createCampaignCreator } from '../src/services/campaigns/create-campaign.js';
import { startPostfixSink, startSinkProcess, smtpSourceSeconds } from './sinks.js';
import { benchStack, cpuByProcess, markdownTable, median, saveResults, startBenchWorker } from './support.js';

const zeroCpu = () => ({ self: 0, postgres: 0, redis: 0, otherNode: 0, smtpSink: 0 });
type SinkKind = 'ours' | 'postfix';

const messages = Number(process.argv[2] ?? 4000);
const connectionCounts = (process.argv[3] ?? '8,32').split(',').map(Number);
const rounds = Number(process.argv[4] ?? 3);
// The sink's reply delay at RCPT and at the end of DATA: 0 (a sink on the same machine, the
// worst case for our per-message overhead) or a few ms, like an SMTP relay in the same region.
const replyDelayMs = Number(process.argv[5] ?? 0);
// Our sink (npm smtp-server, as tests use) and Postfix's smtp-sink (no reply delay: it answers at once).
const sinkKinds = (process.argv[6] ?? (replyDelayMs > 0 ? 'ours' : 'ours,postfix')).split(',') as SinkKind[];
const logger = createLogger('warn');
const content = { fromAddress: 'Bench <bench@example.com>', subject: 'Hello {{first_name}}', bodyText: 'Hi {{first_name}},\n\nA short message.\n', fieldNames: ['first_name'] };

async function measure(connections: number, sinkKind: SinkKind) {
  const stack = await benchStack();
  const { database } = stack;
  const sink = sinkKind === 'postfix' ? await startPostfixSink() : await startSinkProcess(replyDelayMs);
  const config = loadConfig({
    DATABASE_URL: stack.pgUrl, REDIS_URL: stack.redisUrl, SMTP_URL: sink.url, SEND_CONCURRENCY: String(connections),
    SEND_RATE_PER_SECOND: '1000000', PREFETCH_LEAD_SECONDS: '0', REDIS_PREFIX: 'bench',
  });
  let firstHandOff = 0;
  // The pipeline's CPU is counted from its first hand-off, as its time is: not the CSV import and
  // prefetch that come before it.
  let cpuAtFirstHandOff: ReturnType<typeof cpuByProcess> | undefined;
  let handOffs = 0;
  const worker = await startBenchWorker(stack, config, logger, () => {
    handOffs++;
    if (!firstHandOff) {
      firstHandOff = performance.now();
      cpuAtFirstHandOff = cpuByProcess();
    }
  });
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
  const sourceSeconds: number[] = [];
  // smtp-source's payload: about our messages' size, so the ceiling moves the same bytes.
  const sample = buildMessage(content, { deploymentId: 'dep_size', seq: 1, email: 'size@example.com', fields: ['Size'] });
  const payloadBytes = Buffer.byteLength(sample.text);
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
      if (sinkKind === 'postfix') sourceSeconds.push(await smtpSourceSeconds(sink.port, connections, messages, payloadBytes));
    }
  } finally {
    await worker.stop();
    await sink.close();
    await stack.stop();
  }
  const rawRate = messages / median(rawSeconds);
  const pipelineRate = messages / median(pipelineSeconds);
  const perThousand = (side: 'raw' | 'pipeline') => Object.fromEntries(Object.entries(cpu[side]).map(([k, ms]) => [k, Math.round(ms / ((rounds * messages) / 1000))])) as ReturnType<typeof zeroCpu>;
  const sourceRate = sourceSeconds.length > 0 ? messages / median(sourceSeconds) : undefined;
  return { sink: sink.name, connections, rawSeconds, pipelineSeconds, sourceSeconds, rawRate, pipelineRate, sourceRate, ratio: pipelineRate / rawRate, cpuPerThousand: { raw: perThousand('raw'), pipeline: perThousand('pipeline') } };
}

const measured = [];
for (const sinkKind of sinkKinds) for (const connections of connectionCounts) measured.push(await measure(connections, sinkKind));
const rows = measured.flatMap((m) => [
  [m.sink, m.connections, 'raw nodemailer pool', median(m.rawSeconds).toFixed(2), Math.round(m.rawRate), '1.00'],
  [m.sink, m.connections, 'Campaign Guard pipeline', median(m.pipelineSeconds).toFixed(2), Math.round(m.pipelineRate), m.ratio.toFixed(2)],
  ...(m.sourceRate === undefined ? [] : [[m.sink, m.connections, 'smtp-source -d (the protocol\'s ceiling here)', median(m.sourceSeconds).toFixed(2), Math.round(m.sourceRate), (m.sourceRate / m.rawRate).toFixed(2)]]),
]);
const cpuRows = measured.flatMap((m) => (['raw', 'pipeline'] as const).map((side) => {
  const c = m.cpuPerThousand[side];
  const sinkCpu = c.otherNode + c.smtpSink;
  return [m.sink, m.connections, side === 'raw' ? 'raw nodemailer pool' : 'Campaign Guard pipeline', c.self, c.postgres, c.redis, sinkCpu, c.self + c.postgres + c.redis + sinkCpu];
}));
const verdicts = measured.map((m) => `${m.sink}, ${m.connections} connections: ${m.ratio.toFixed(2)} ${m.ratio >= 0.8 ? 'PASS' : 'FAIL'}`).join('; ');
const markdown = `## Send throughput (${messages.toLocaleString('en-US')} messages to a local sink${replyDelayMs ? ` answering RCPT and DATA after ${replyDelayMs} ms` : ''}, ${rounds} rounds each, alternating)\n\n${markdownTable(
  ['sink', 'connections', 'method', 'median s', 'messages/s', 'vs raw'],
  rows,
)}\n\nCPU per 1,000 messages (ms), where it goes (2 cores are shared by all of them):\n\n${markdownTable(
  ['sink', 'connections', 'method', 'sender process', 'Postgres', 'Redis', 'sink', 'total'],
  cpuRows,
)}\n\nTarget: pipeline ≥ 0.80 × raw → ${verdicts}`;
console.log(markdown);
await saveResults('send', { messages, rounds, measured }, markdown);
if (measured.some((m) => m.ratio < 0.8)) process.exitCode = 1;
