/**
 * CSV import throughput: `campaign create`'s import (parse, validate, dedupe, COPY into the
 * audience, batches, audit) next to a plain `COPY … FROM STDIN (FORMAT csv)` of the same file
 * into an unindexed table, on the same Postgres, alternating runs. Target: ≥ 50% of COPY's rate.
 *
 *   npm run bench -- [rows=100000] [runs=7]   (after one uncounted warm-up run)
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { openDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { createAudienceWorkerPool } from '../src/services/campaigns/audience-workers.js';
import { createCampaignCreator } from '../src/services/campaigns/create-campaign.js';
import { benchPostgres, markdownTable, median, saveResults } from './support.js';

const rows = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 7);

async function writeCsv(file: string) {
  const lines = ['email,first_name,last_name,city'];
  for (let i = 0; i < rows; i++) lines.push(`user${i}@example${i % 50}.com,First${i},Last${i},City${i % 100}`);
  await writeFile(file, `${lines.join('\n')}\n`);
}

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'cg-bench-import-'));
  const file = path.join(tmp, 'audience.csv');
  await writeCsv(file);
  const pg = await benchPostgres();
  await runMigrations(pg.url);
  const database = await openDatabase(pg.url, { max: 4 });
  const workers = createAudienceWorkerPool();
  const createCampaign = createCampaignCreator({ database, clock: () => new Date(), validateBlock: workers.validate });
  await database.sql`create table if not exists bench_plain_copy (email text, first_name text, last_name text, city text)`;

  const copySeconds: number[] = [];
  const importSeconds: number[] = [];
  try {
    // Run 0 warms up both paths (JIT, worker threads, caches) and is not counted.
    for (let run = 0; run <= runs; run++) {
      await database.sql`truncate bench_plain_copy`;
      let started = performance.now();
      const writable = await database.sql`copy bench_plain_copy from stdin with (format csv, header true)`.writable();
      await pipeline(createReadStream(file), writable);
      const copyTime = (performance.now() - started) / 1000;

      started = performance.now();
      const outcome = await createCampaign({
        name: `bench ${run}`,
        kind: 'single',
        deployments: 1,
        subject: 'bench',
        from: 'bench@example.com',
        body: 'hi {{first_name}}',
        sendAt: null,
        batches: 1,
        batchIntervalMs: 0,
        strict: false,
        actor: 'bench',
        recipients: createReadStream(file, { highWaterMark: 256 * 1024 }),
        expectedRows: Math.ceil((await stat(file)).size / 40),
      });
      const importTime = (performance.now() - started) / 1000;
      if (run > 0) {
        copySeconds.push(copyTime);
        importSeconds.push(importTime);
      }
      if (!outcome.ok || outcome.value.imported !== rows) throw new Error(`import failed: ${JSON.stringify(outcome)}`);
      const [{ n }] = (await database.sql`select count(*)::int as n from bench_plain_copy`) as unknown as [{ n: number }];
      if (n !== rows) throw new Error(`plain COPY loaded ${n} rows, expected ${rows}`);
    }
  } finally {
    await workers.close();
    await database.close();
    await pg.stop();
    await rm(tmp, { recursive: true, force: true });
  }

  const copyRate = rows / median(copySeconds);
  const importRate = rows / median(importSeconds);
  const ratio = importRate / copyRate;
  const table = markdownTable(
    ['method', 'rows', 'median s', 'rows/s', 'vs COPY'],
    [
      ['plain COPY (csv)', rows, median(copySeconds).toFixed(3), Math.round(copyRate), '1.00'],
      ['campaign create import', rows, median(importSeconds).toFixed(3), Math.round(importRate), ratio.toFixed(2)],
    ],
  );
  const verdict = ratio >= 0.5 ? 'PASS' : 'FAIL';
  const markdown = `## CSV import (${rows.toLocaleString('en-US')} rows, ${runs} runs each after a warm-up, alternating)\n\n${table}\n\nTarget: import ≥ 0.50 × COPY rate → ${verdict} (${ratio.toFixed(2)})`;
  console.log(markdown);
  await saveResults('import', { rows, runs, copySeconds, importSeconds, copyRate, importRate, ratio, pass: ratio >= 0.5 }, markdown);
  await once(process.stdout, 'drain').catch(() => undefined);
  if (ratio < 0.5) process.exitCode = 1;
}

await main();
