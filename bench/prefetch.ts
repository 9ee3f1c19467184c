/**
 * Prefetch time: a deployment of N recipients (default 1,000,000, 3 batches) materialised into
 * the ledger, on a Postgres with default durability. Target: < 10 s for a million.
 *
 *   npm run bench -- prefetch [rows=1000000]
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { createLogger } from '../src/lib/logger.js';
import { createAudienceWorkerPool } from '../src/services/campaigns/audience-workers.js';
import { createCampaignCreator } from '../src/services/campaigns/create-campaign.js';
import { createPrefetchProcessor } from '../src/services/sending/prefetch-job.js';
import { benchPostgres, markdownTable, saveResults } from './support.js';

const rows = Number(process.argv[2] ?? 1_000_000);

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'cg-bench-prefetch-'));
  const file = path.join(tmp, 'audience.csv');
  const lines = ['email,first_name,last_name'];
  for (let i = 0; i < rows; i++) lines.push(`user${i}@example${i % 50}.com,First${i},Last${i}`);
  await writeFile(file, `${lines.join('\n')}\n`);
  const pg = await benchPostgres();
  await runMigrations(pg.url);
  const database = await openDatabase(pg.url, { max: 4 });
  const workers = createAudienceWorkerPool();
  try {
    const create = createCampaignCreator({ database, clock: () => new Date(), validateBlock: workers.validate });
    const created = await create({
      name: 'prefetch bench', kind: 'single', deployments: 1, subject: 's', from: 'bench@example.com', body: 'hi {{first_name}}',
      sendAt: new Date(Date.now() + 3_600_000), batches: 3, batchIntervalMs: 600_000, strict: false, actor: 'bench', recipients: createReadStream(file),
    });
    if (!created.ok) throw new Error(created.reason);
    const deploymentId = created.value.deploymentIds[0]!;
    const prefetch = createPrefetchProcessor({ sql: database.sql, logger: createLogger('silent') });
    const started = performance.now();
    const outcome = await prefetch(deploymentId);
    const seconds = (performance.now() - started) / 1000;
    const [{ n }] = (await database.sql`select count(*)::int as n from deliveries where deployment_id = ${deploymentId}`) as unknown as [{ n: number }];
    if (outcome !== 'prefetched' || n !== rows) throw new Error(`prefetch ended ${outcome} with ${n} rows`);
    const pass = rows < 1_000_000 || seconds < 10;
    const markdown = `## Prefetch (${rows.toLocaleString('en-US')} recipients, 3 batches)\n\n${markdownTable(
      ['recipients', 'seconds', 'rows/s'],
      [[rows, seconds.toFixed(2), Math.round(rows / seconds)]],
    )}\n\nTarget: 1,000,000 in < 10 s → ${pass ? 'PASS' : 'FAIL'}`;
    console.log(markdown);
    await saveResults('prefetch', { rows, seconds, pass }, markdown);
    if (!pass) process.exitCode = 1;
  } finally {
    await workers.close();
    await database.close();
    await pg.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
