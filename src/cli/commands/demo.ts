import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { checkCampaignSpec } from '../../domain/campaign-spec.js';
import { renderStatusText } from '../render.js';
import { withServices } from '../context.js';
import { CommandError } from '../errors.js';

/** A sample audience with the kinds of rows real lists have: good ones, typos and repeats. */
function sampleCsv(count: number): string {
  const lines = ['email,first_name,deployment'];
  for (let i = 1; i <= count; i++) {
    const deployment = i <= count / 2 ? 1 : 2;
    lines.push(`reader${i}@example.${deployment === 1 ? 'com' : 'net'},Reader ${i},${deployment}`);
  }
  lines.push('not-an-address,Typo,1', 'reader1@example.com,Repeat,1');
  return `${lines.join('\n')}\n`;
}

export function registerDemo(program: Command) {
  program
    .command('demo')
    .description('walk through Campaign Guard on this machine with nothing configured')
    .action(async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'campaign-guard-demo-'));
      try {
        const file = path.join(dir, 'audience.csv');
        await writeFile(file, sampleCsv(2000));
        await withServices(async ({ services }) => {
          const spec = checkCampaignSpec(
            { name: `Demo ${new Date().toISOString().slice(0, 16)}`, kind: 'multi', deployments: 2, sendAt: new Date(Date.now() + 3600_000), batches: 3, batchIntervalMs: 600_000 },
            new Date(),
          );
          if (!spec.ok) throw new CommandError(spec.reason);
          process.stdout.write(`1. importing a 2,002-row audience (one typo, one repeat) into a multi campaign…\n`);
          const outcome = await services.createCampaign({ ...spec.value, body: 'Hello {{first_name}}\n', strict: false, actor: 'demo', recipients: createReadStream(file) });
          if (!outcome.ok) throw new CommandError(outcome.reason);
          for (const p of outcome.value.problems) process.stdout.write(`   line ${p.lineNo}: ${p.detail} — skipped\n`);
          process.stdout.write(`2. the campaign, its deployments and their batches:\n`);
          const report = await services.status.lookup(outcome.value.campaignId);
          if (report.ok) process.stdout.write(`${renderStatusText(report.value).replace(/^/gm, '   ')}\n`);
          process.stdout.write(`3. see it again with: campaign-guard status ${outcome.value.campaignId}\n`);
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
}
