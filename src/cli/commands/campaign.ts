import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { Option, type Command } from 'commander';
import { checkCampaignSpec } from '../../domain/campaign-spec.js';
import { parseDuration } from '../../domain/duration.js';
import type { Kind } from '../../domain/lifecycle.js';
import { createProgress } from '../../lib/progress.js';
import type { RowProblem } from '../../services/campaigns/audience-csv.js';
import { printJson, withServices } from '../context.js';
import { CommandError, EXIT } from '../errors.js';

interface CreateOptions {
  name: string;
  recipients: string;
  subject?: string;
  from?: string;
  body?: string;
  kind: Kind;
  deployments?: string;
  sendAt?: string;
  now?: boolean;
  batches?: string;
  batchInterval?: string;
  strict?: boolean;
  json?: boolean;
}

const DEFAULT_BODY = 'Hello {{first_name}},\n\nThis is a message from {{from_name}}.\n';

function wholeNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,6}$/.test(text)) throw new CommandError(`${flag} must be a whole number`);
  return Number(text);
}

function printProblems(problems: RowProblem[], invalid: number, duplicate: number) {
  for (const p of problems) process.stderr.write(`line ${p.lineNo}: ${p.detail} — skipped\n`);
  const listed = problems.length;
  if (invalid + duplicate > listed) process.stderr.write(`… and ${invalid + duplicate - listed} more problems not listed\n`);
}

export function registerCampaign(program: Command) {
  const campaign = program.command('campaign').description('create campaigns and manage their edit locks');

  campaign
    .command('create')
    .description('create a campaign from a recipients CSV (header with at least "email")')
    .requiredOption('--name <name>', 'campaign name')
    .requiredOption('--recipients <file>', 'CSV file, or - for standard input')
    .option('--subject <subject>', 'subject line (default: the name)')
    .option('--from <from>', 'sender, like "News <news@example.com>"')
    .option('--body <file>', 'text body template with {{merge_fields}}')
    .addOption(new Option('--kind <kind>', 'single deployment or multi-deployment campaign').choices(['single', 'multi']).default('single'))
    .option('--deployments <k>', 'number of deployments (multi)')
    .addOption(new Option('--send-at <iso>', 'when to send, ISO 8601 with a time zone').conflicts('now'))
    .option('--now', 'send as soon as possible')
    .option('--batches <k>', 'split each deployment into K batches')
    .option('--batch-interval <duration>', 'time between batches, like 10m or 1h30m (default 10m)')
    .option('--strict', 'refuse the whole file if any row is invalid or duplicate')
    .option('--json', 'print one JSON object with campaignId and deploymentIds')
    .action(async (options: CreateOptions) => {
      const batchIntervalMs = options.batchInterval === undefined ? undefined : parseDuration(options.batchInterval);
      if (options.batchInterval !== undefined && batchIntervalMs === undefined) {
        throw new CommandError('--batch-interval must be a duration like 90s, 10m or 1h30m');
      }
      let sendAt: Date | 'now' | null = null;
      if (options.now) sendAt = 'now';
      else if (options.sendAt !== undefined) {
        if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(options.sendAt)) {
          throw new CommandError('--send-at must be an ISO time with a time zone, like 2026-12-01T09:00:00Z');
        }
        sendAt = new Date(options.sendAt);
      }
      const spec = checkCampaignSpec(
        {
          name: options.name,
          kind: options.kind,
          deployments: wholeNumber('--deployments', options.deployments),
          subject: options.subject,
          from: options.from,
          sendAt,
          batches: wholeNumber('--batches', options.batches),
          batchIntervalMs,
        },
        new Date(),
      );
      if (!spec.ok) throw new CommandError(spec.reason);

      const body = options.body ? await readFile(options.body, 'utf8').catch(() => undefined) : DEFAULT_BODY;
      if (body === undefined) throw new CommandError(`cannot read --body file ${options.body}`);
      const fromStdin = options.recipients === '-';
      const size = fromStdin ? undefined : await stat(options.recipients).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
      if (!fromStdin && size === undefined) throw new CommandError(`cannot read --recipients file ${options.recipients}`);
      const source = fromStdin ? process.stdin : createReadStream(options.recipients, { highWaterMark: 256 * 1024 });
      const progress = createProgress(`importing ${fromStdin ? 'stdin' : options.recipients}`);

      await withServices(async ({ services }) => {
        const outcome = await services.createCampaign({
          ...spec.value,
          body,
          strict: Boolean(options.strict),
          actor: `cli:${os.userInfo().username}`,
          recipients: source,
          expectedRows: size ? Math.ceil(size / 40) : undefined,
          onProgress: (rows) => progress.update(rows, size ? Math.min(1, (source as { bytesRead?: number }).bytesRead! / size) : undefined),
        });
        if (!outcome.ok) {
          printProblems(outcome.problems ?? [], outcome.invalidCount ?? 0, outcome.duplicateCount ?? 0);
          if (options.json) printJson({ error: { code: outcome.code, message: outcome.reason } });
          throw new CommandError(outcome.reason, EXIT.refused);
        }
        const created = outcome.value;
        progress.finish(created.imported);
        printProblems(created.problems, created.invalidCount, created.duplicateCount);
        if (options.json) {
          printJson({
            campaignId: created.campaignId,
            deploymentIds: created.deploymentIds,
            status: created.status,
            imported: created.imported,
            skipped: { invalid: created.invalidCount, duplicate: created.duplicateCount },
          });
          return;
        }
        const when = spec.value.sendAt ? `scheduled for ${spec.value.sendAt.toISOString()}` : 'a draft (no send time)';
        process.stdout.write(
          `created campaign ${created.campaignId} "${spec.value.name}" (${spec.value.kind}), ${when}\n` +
            `imported ${created.imported.toLocaleString('en-US')} recipients` +
            (created.invalidCount + created.duplicateCount
              ? `; skipped ${created.invalidCount} invalid and ${created.duplicateCount} duplicate rows\n`
              : '\n') +
            created.deploymentIds.map((id, i) => `  deployment ${id}: ${created.perDeployment[i]!.toLocaleString('en-US')} recipients\n`).join(''),
        );
      });
    });

  campaign
    .command('lock <id>')
    .description('take the edit lock on a campaign (a responder\'s cancel overrides it)')
    .requiredOption('--actor <user>', 'who holds the lock')
    .action(async (id: string, options: { actor: string }) => {
      await withServices(async ({ services }) => {
        const result = await services.locks.lock(id, options.actor);
        if (!result.ok) throw new CommandError(result.reason, result.code === 'invalid_actor' ? EXIT.usage : EXIT.refused);
        process.stdout.write(`${id} is locked by ${options.actor}\n`);
      });
    });

  campaign
    .command('unlock <id>')
    .description('release the edit lock')
    .requiredOption('--actor <user>', 'who releases it (the holder)')
    .option('--force', 'release a lock held by someone else')
    .action(async (id: string, options: { actor: string; force?: boolean }) => {
      await withServices(async ({ services }) => {
        const result = await services.locks.unlock(id, options.actor, Boolean(options.force));
        if (!result.ok) throw new CommandError(result.reason, result.code === 'invalid_actor' ? EXIT.usage : EXIT.refused);
        process.stdout.write(`${id} is unlocked\n`);
      });
    });
}
