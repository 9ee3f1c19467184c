/**
 * Alerts, part 1: webhook ingestion rate over real HTTP (signature checks, parsing, dedupe, ledger
 * and books in Postgres), for SendGrid batches, single-recipient SES notifications and our generic
 * format. Target ≥ 2,000 events/s.
 *
 * Part 2: how long from the moment a deployment's bounce rate crosses its threshold (the commit of
 * the feedback that pushed it over) to the alert's Slack outbox row, with the monitor running as
 * `serve` runs it (a tick every 250 ms) and every deployment watched at once. Target p99 < 500 ms.
 *
 *   npm run bench -- alerts [deployments=100]
 */
import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, sign, type KeyPairKeyObjectResult } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { createHttpServer } from '../src/http/server.js';
import { registerWebhookRoutes } from '../src/http/webhooks/routes.js';
import { createCertificateStore } from '../src/http/webhooks/sns-certificates.js';
import type { DatabaseHandle } from '../src/db/client.js';
import type { FeedbackEvent } from '../src/domain/feedback.js';
import { createLogger } from '../src/lib/logger.js';
import { runEvery } from '../src/lib/periodic.js';
import { sleep } from '../src/lib/processes.js';
import { createAlertMonitor, policyFromConfig } from '../src/services/alerts/monitor.js';
import { createAudienceWorkerPool } from '../src/services/campaigns/audience-workers.js';
import { createCampaignCreator } from '../src/services/campaigns/create-campaign.js';
import { createFeedbackIngestor } from '../src/services/feedback/ingest.js';
import { createPrefetchProcessor } from '../src/services/sending/prefetch-job.js';
import { loadConfig } from '../src/config.js';
import { benchStack, markdownTable, percentile, saveResults } from './support.js';

const deployments = Number(process.argv[2] ?? 100);
const INGEST_EVENTS = Number(process.argv[3] ?? 20_000);
const RECIPIENTS = 200;
const logger = createLogger('warn');

/** A deployment whose 200 messages were all accepted (the ledger and books as a finished send leaves them). */
async function sentDeployment(database: DatabaseHandle, label: string, validate: ReturnType<typeof createAudienceWorkerPool>['validate'], recipients = RECIPIENTS): Promise<string> {
  const csv = ['email', ...Array.from({ length: recipients }, (_, i) => `${label}-${i}@example.com`)].join('\n');
  const created = await createCampaignCreator({ database, clock: () => new Date(), validateBlock: validate })({
    name: label, kind: 'single', deployments: 1, subject: 's', from: 'bench@example.com', body: 'hi', sendAt: new Date(),
    batches: 1, batchIntervalMs: 0, strict: false, actor: 'bench', recipients: Readable.from([csv]),
  });
  if (!created.ok) throw new Error(created.reason);
  const id = created.value.deploymentIds[0]!;
  await createPrefetchProcessor({ sql: database.sql, logger })(id);
  await database.sql`update deliveries set status = 'sent' where deployment_id = ${id}`;
  await database.sql`update deployments set status = 'completed', sent_count = total_count, completed_at = now() where id = ${id}`;
  await database.sql`update batches set status = 'completed', sent_count = total_count where deployment_id = ${id}`;
  return id;
}

const bounces = (deploymentId: string, count: number) => ({
  events: Array.from({ length: count }, (_, i): FeedbackEvent => ({ provider: 'sendgrid', eventId: `${deploymentId}-${i}`, kind: 'bounce', bounceClass: 'hard', countsTowardRate: true, deliveryTag: `${deploymentId}.${i + 1}` })),
  quarantined: [],
});

/** Posts `count` events to the real routes from `concurrency` clients, `perRequest` at a time. */
async function ingestionRates(database: DatabaseHandle, deploymentId: string) {
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const snsKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const secret = 'bench-secret-0123456789abcdef0123456789';
  const topic = 'arn:aws:sns:us-east-1:123456789012:bench';
  const certUrl = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-bench.pem';
  const server = createHttpServer({ logger });
  const ingestor = createFeedbackIngestor({ database, logger });
  registerWebhookRoutes(server, {
    config: { sesTopicArns: [topic], sendgridPublicKey: keys.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), eventsSecret: secret },
    ingest: async (parsed) => {
      await ingestor.ingest(parsed);
    },
    // The certificate is fetched once and cached, as in production; here it is a self-signed one.
    certificates: createCertificateStore({ fetchCertificate: async () => selfSignedCertificate(snsKey) }),
    confirmSubscription: async () => {},
    logger,
  });
  const url = await server.listen({ port: 0, host: '127.0.0.1' });
  let seq = 0;
  const nextSeq = () => ++seq;
  const tag = (s: number) => `<cg.${deploymentId}.${s}@example.com>`;

  const formats = [
    {
      format: 'SendGrid (100 events per post)', perRequest: 100, concurrency: 8,
      request: (n: number) => {
        const body = `${JSON.stringify(Array.from({ length: n }, () => { const s = nextSeq(); return { email: `ingest-${s - 1}@example.com`, event: s % 2 ? 'bounce' : 'delivered', type: 'bounce', 'smtp-id': tag(s), sg_event_id: `sg-${s}`, timestamp: 1700000000 }; }))}\r\n`;
        const timestamp = String(Math.floor(Date.now() / 1000));
        const signature = sign('sha256', Buffer.from(timestamp + body), { key: keys.privateKey, dsaEncoding: 'der' }).toString('base64');
        return { path: '/webhooks/sendgrid', body, headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp } };
      },
    },
    {
      format: 'SES via SNS (1 recipient per post)', perRequest: 1, concurrency: 64,
      request: () => {
        const s = nextSeq();
        const message = JSON.stringify({ notificationType: 'Bounce', bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: `ingest-${s - 1}@example.com` }], timestamp: '2026-01-01T00:00:00.000Z', feedbackId: `f-${s}` }, mail: { messageId: `ses-${s}`, commonHeaders: { messageId: tag(s) }, destination: [`ingest-${s - 1}@example.com`] } });
        const fields: Record<string, string> = { Type: 'Notification', MessageId: `sns-${s}`, TopicArn: topic, Message: message, Timestamp: new Date().toISOString(), SigningCertURL: certUrl };
        const toSign = ['Message', 'MessageId', 'Timestamp', 'TopicArn', 'Type'].map((k) => `${k}\n${fields[k]}\n`).join('');
        const envelope = { ...fields, SignatureVersion: '2', Signature: sign('RSA-SHA256', Buffer.from(toSign), snsKey.privateKey).toString('base64') };
        return { path: '/webhooks/ses', body: JSON.stringify(envelope), headers: { 'content-type': 'text/plain; charset=UTF-8' } };
      },
    },
    {
      format: 'generic (100 events per post)', perRequest: 100, concurrency: 8,
      request: (n: number) => {
        const body = JSON.stringify({ events: Array.from({ length: n }, () => { const s = nextSeq(); return { id: `g-${s}`, type: 'complaint', messageId: tag(s) }; }) });
        const timestamp = String(Math.floor(Date.now() / 1000));
        const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
        return { path: '/webhooks/events', body, headers: { 'content-type': 'application/json', 'x-campaign-guard-timestamp': timestamp, 'x-campaign-guard-signature': `v1=${signature}` } };
      },
    },
  ];

  const results = [];
  try {
    for (const f of formats) {
      const requests = Math.ceil(INGEST_EVENTS / f.perRequest / (f.perRequest === 1 ? 5 : 1));
      // Built (and signed) before the clock starts: the providers sign, not us. Posted from a
      // worker thread, so the load generator does not share the server's event loop.
      const prepared = Array.from({ length: requests }, () => f.request(f.perRequest));
      const started = performance.now();
      await postFromWorker(`${url}`, prepared, f.concurrency);
      const events = requests * f.perRequest;
      const seconds = (performance.now() - started) / 1000;
      results.push({ format: f.format, events, requests, concurrency: f.concurrency, seconds, rate: events / seconds });
    }
  } finally {
    await server.close();
  }
  const [counted] = await database.sql<{ n: number }[]>`select count(*)::int as n from provider_events where disposition = 'counted'`;
  if (counted!.n < seq / 2) throw new Error(`only ${counted!.n} of ${seq} events changed the books`);
  return results;
}

/** Posts every request (node:http, keep-alive, `concurrency` at a time) from a worker thread; rejects on any non-200. */
function postFromWorker(base: string, requests: { path: string; headers: Record<string, string>; body: string }[], concurrency: number): Promise<void> {
  const code = `
    const http = require('node:http');
    const { workerData, parentPort } = require('node:worker_threads');
    const agent = new http.Agent({ keepAlive: true, maxSockets: workerData.concurrency });
    let next = 0;
    const post = (r) => new Promise((resolve, reject) => {
      const request = http.request(workerData.base + r.path, { method: 'POST', agent, headers: { ...r.headers, 'content-length': Buffer.byteLength(r.body) } }, (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (c) => (text += c)).on('end', () => response.statusCode === 200 ? resolve() : reject(new Error(r.path + ' answered ' + response.statusCode + ': ' + text)));
      });
      request.on('error', reject);
      request.end(r.body);
    });
    Promise.all(Array.from({ length: workerData.concurrency }, async () => { while (next < workerData.requests.length) await post(workerData.requests[next++]); }))
      .then(() => { agent.destroy(); parentPort.postMessage('done'); }, (error) => { throw error; });`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { base, requests, concurrency } });
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
}

/** A self-signed certificate for the bench's SNS key, made with openssl once per run. */
function selfSignedCertificate(key: KeyPairKeyObjectResult): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cg-bench-cert-'));
  writeFileSync(path.join(dir, 'key.pem'), key.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  execFileSync('openssl', ['req', '-x509', '-new', '-key', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=sns.amazonaws.com'], { stdio: 'ignore' });
  const pem = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  rmSync(dir, { recursive: true, force: true });
  return pem;
}

async function main() {
  const stack = await benchStack();
  const { database } = stack;
  const workers = createAudienceWorkerPool();
  const config = loadConfig({ BOUNCE_RATE_WARN: '5%', BOUNCE_RATE_CRITICAL: '10%', ALERT_MIN_SAMPLE: '100', ALERT_SUSTAIN_SECONDS: '0' });
  // Each alert is logged at warn; the table is what matters here.
  const monitor = createAlertMonitor({ database, policy: policyFromConfig(config.alerts), windowSeconds: config.alerts.windowSeconds, logger: createLogger('error') });
  const ingestor = createFeedbackIngestor({ database, logger });
  const latencies: number[] = [];
  let ingestion: { format: string; events: number; requests: number; concurrency: number; seconds: number; rate: number }[];
  try {
    ingestion = await ingestionRates(database, await sentDeployment(database, 'ingest', workers.validate, INGEST_EVENTS * 3));
    const ids: string[] = [];
    for (let i = 0; i < deployments; i++) ids.push(await sentDeployment(database, `a${i}`, workers.validate));
    // Every deployment is watched from the start: each gets feedback below the threshold first.
    for (const id of ids) await ingestor.ingest({ events: [{ ...bounces(id, 1).events[0]!, eventId: `${id}-warmup`, deliveryTag: `${id}.200` }], quarantined: [] });
    const loop = runEvery(250, 'alert-monitor', monitor.tick, logger);
    for (const id of ids) {
      // Crossings land anywhere in the monitor's tick.
      await sleep(Math.random() * 250);
      await ingestor.ingest(bounces(id, 11));
      const crossed = performance.now();
      for (;;) {
        const [row] = await database.sql`select 1 from slack_outbox o join alerts a on a.id = o.alert_id where a.deployment_id = ${id}`;
        if (row) break;
        await sleep(2);
      }
      latencies.push(performance.now() - crossed);
    }
    await loop.stop();
  } finally {
    await workers.close();
    await stack.stop();
  }
  const ingestPass = ingestion.every((r) => r.rate >= 2000);
  const ingestTable = `## Alerts: webhook ingestion over HTTP (signed, parsed, deduplicated, applied to the ledger)\n\n${markdownTable(
    ['format', 'events', 'requests', 'concurrent', 'seconds', 'events/s'],
    ingestion.map((r) => [r.format, r.events, r.requests, r.concurrency, r.seconds.toFixed(2), Math.round(r.rate)]),
  )}\n\nTarget ≥ 2,000 events/s: ${ingestPass ? 'PASS' : 'FAIL'}.`;
  console.log(ingestTable);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const pass = p99 < 500;
  const markdown = `## Alerts: threshold crossing → Slack outbox row (${deployments} deployments watched, monitor tick 250 ms)\n\n${markdownTable(
    ['crossings', 'p50 ms', 'p99 ms', 'max ms'],
    [[latencies.length, p50.toFixed(0), p99.toFixed(0), Math.max(...latencies).toFixed(0)]],
  )}\n\nTarget p99 < 500 ms: ${pass ? 'PASS' : 'FAIL'}.`;
  console.log(markdown);
  await saveResults('alerts', { ingestion, deployments, latencies: { p50, p99, max: Math.max(...latencies) }, pass, ingestPass }, `${ingestTable}\n\n${markdown}`);
  if (!pass || !ingestPass) process.exitCode = 1;
}

await main();
