/**
 * Alerts: how long from the moment a deployment's bounce rate crosses its threshold (the commit of
 * the feedback that pushed it over) to the alert's Slack outbox row, with the monitor running as
 * `serve` runs it (a tick every 250 ms) and every deployment watched at once. Target p99 < 500 ms.
 *
 *   npm run bench -- alerts [deployments=100]
 */
import { Readable } from 'node:stream';
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
import { benchStack, markdownTable, saveResults } from './support.js';

const deployments = Number(process.argv[2] ?? 100);
const RECIPIENTS = 200;
const logger = createLogger('warn');
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;

/** A deployment whose 200 messages were all accepted (the ledger and books as a finished send leaves them). */
async function sentDeployment(database: DatabaseHandle, label: string, validate: ReturnType<typeof createAudienceWorkerPool>['validate']): Promise<string> {
  const csv = ['email', ...Array.from({ length: RECIPIENTS }, (_, i) => `${label}-${i}@example.com`)].join('\n');
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

async function main() {
  const stack = await benchStack();
  const { database } = stack;
  const workers = createAudienceWorkerPool();
  const config = loadConfig({ BOUNCE_RATE_WARN: '5%', BOUNCE_RATE_CRITICAL: '10%', ALERT_MIN_SAMPLE: '100', ALERT_SUSTAIN_SECONDS: '0' });
  // Each alert is logged at warn; the table is what matters here.
  const monitor = createAlertMonitor({ database, policy: policyFromConfig(config.alerts), windowSeconds: config.alerts.windowSeconds, logger: createLogger('error') });
  const ingestor = createFeedbackIngestor({ database, logger });
  const latencies: number[] = [];
  try {
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
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const pass = p99 < 500;
  const markdown = `## Alerts: threshold crossing → Slack outbox row (${deployments} deployments watched, monitor tick 250 ms)\n\n${markdownTable(
    ['crossings', 'p50 ms', 'p99 ms', 'max ms'],
    [[latencies.length, p50.toFixed(0), p99.toFixed(0), Math.max(...latencies).toFixed(0)]],
  )}\n\nTarget p99 < 500 ms: ${pass ? 'PASS' : 'FAIL'}.`;
  console.log(markdown);
  await saveResults('alerts', { deployments, latencies: { p50, p99, max: Math.max(...latencies) }, pass }, markdown);
  if (!pass) process.exitCode = 1;
}

await main();
