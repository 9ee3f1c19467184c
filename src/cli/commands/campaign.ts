import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { Option, type Command } from 'commander';
import { checkCampaignSpec } from '../../domain/campaign-spec.js';
import { parseDuration } from '../../domain/duration.js';
import { sendPriorityLabel } from '../../domain/send-weight.js';
import type { PolicyOverride } from '../../domain/thresholds.js';
import { parseRate } from '../../config.js';
import type { Kind } from '../../domain/lifecycle.js';
import { createProgress } from '../../lib/progress.js';
import type { RowProblem } from '../../services/campaigns/audience-csv.js';
import { printJson, withServices, type CommandRoot } from '../context.js';
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
  priority?: string;
  strict?: boolean;
  json?: boolean;
}

const DEFAULT_BODY = 'Hello {{first_name}},\n\nThis is a test message from Campaign Guard.\n';

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

export function registerCampaign(program: Command, root: CommandRoot) {
  const campaign = program.command('campaign').description('create campaigns, manage their edit locks and alert policies');

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
    .option('--priority <priority>', 'share of the send capacity when deployments send at once: high, normal (default), low, or a weight (normal = 1)')
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
          priority: options.priority,
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

      await withServices(root, async ({ services }) => {
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
          // A template that cannot render is a usage error, as a bad flag is.
          throw new CommandError(outcome.reason, outcome.code === 'bad_template' ? EXIT.usage : EXIT.refused);
        }
        const created = outcome.value;
        progress.finish(created.imported);
        printProblems(created.problems, created.invalidCount, created.duplicateCount);
        for (const name of created.unknownFields) process.stderr.write(`warning: the file has no column for {{${name}}}; it renders empty\n`);
        if (options.json) {
          printJson({
            campaignId: created.campaignId,
            deploymentIds: created.deploymentIds,
            status: created.status,
            priority: sendPriorityLabel(spec.value.sendWeight),
            imported: created.imported,
            skipped: { invalid: created.invalidCount, duplicate: created.duplicateCount },
          });
          return;
        }
        const when = spec.value.sendAt ? `scheduled for ${spec.value.sendAt.toISOString()}` : 'a draft (no send time)';
        process.stdout.write(
          `created campaign ${created.campaignId} "${spec.value.name}" (${spec.value.kind}, priority ${sendPriorityLabel(spec.value.sendWeight)}), ${when}\n` +
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
      await withServices(root, async ({ services }) => {
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
      await withServices(root, async ({ services }) => {
        const result = await services.locks.unlock(id, options.actor, Boolean(options.force));
        if (!result.ok) throw new CommandError(result.reason, result.code === 'invalid_actor' ? EXIT.usage : EXIT.refused);
        process.stdout.write(`${id} is unlocked\n`);
      });
    });

  campaign
    .command('policy <id>')
    .description("show or change a campaign's alert policy (overrides of the configured defaults)")
    .option('--bounce-warn <rate>', 'like 0.03 or 3%')
    .option('--bounce-critical <rate>')
    .option('--error-warn <rate>')
    .option('--error-critical <rate>')
    .option('--complaint-warn <rate>')
    .option('--complaint-critical <rate>')
    .option('--min-sample <n>', 'messages before any verdict')
    .option('--sustain-seconds <n>', 'how long a level must hold')
    .addOption(new Option('--auto-pause <on|off>', 'pause on a critical alert').choices(['on', 'off']))
    .option('--reset', 'drop every override: the defaults apply')
    .option('--actor <user>', 'who changes it (audited)', `cli:${os.userInfo().username}`)
    .option('--json', 'print the override and the effective policy as JSON')
    .action(async (id: string, options: PolicyOptions) => {
      const change = policyChange(options);
      await withServices(root, async ({ services }) => {
        const result = change === undefined ? await services.alertPolicy.show(id) : await services.alertPolicy.set(id, change, options.actor);
        if (!result.ok) throw new CommandError(result.reason, result.code === 'invalid_policy' ? EXIT.usage : EXIT.refused);
        const { override, effective } = result.value;
        if (options.json) return printJson({ campaignId: id, override, effective });
        const percent = (n: number) => `${Number((n * 100).toPrecision(4))}%`;
        process.stdout.write(
          `alert policy of ${id}${override ? ' (with overrides)' : ' (the defaults)'}\n` +
            (['bounce', 'error', 'complaint'] as const)
              .map((m) => `  ${m.padEnd(9)} warning at ${percent(effective.thresholds[m].warn)}, critical at ${percent(effective.thresholds[m].critical)}\n`)
              .join('') +
            `  verdicts after ${effective.minSample} messages; a level must hold ${effective.sustainSeconds}s; auto-pause ${effective.autoPauseOnCritical ? 'on' : 'off'}\n`,
        );
      });
    });
}

interface PolicyOptions {
  bounceWarn?: string;
  bounceCritical?: string;
  errorWarn?: string;
  errorCritical?: string;
  complaintWarn?: string;
  complaintCritical?: string;
  minSample?: string;
  sustainSeconds?: string;
  autoPause?: 'on' | 'off';
  reset?: boolean;
  actor: string;
  json?: boolean;
}

/** The options as an override change; undefined when none was given (show only). */
function policyChange(o: PolicyOptions): PolicyOverride | 'reset' | undefined {
  const rateOption = (flag: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const value = parseRate(text);
    if (value === undefined) throw new CommandError(`${flag} must be a fraction like 0.05 or a percentage like 5%`);
    return value;
  };
  const thresholds: NonNullable<PolicyOverride['thresholds']> = {};
  for (const [metric, warn, critical] of [
    ['bounce', o.bounceWarn, o.bounceCritical],
    ['error', o.errorWarn, o.errorCritical],
    ['complaint', o.complaintWarn, o.complaintCritical],
  ] as const) {
    const w = rateOption(`--${metric}-warn`, warn);
    const c = rateOption(`--${metric}-critical`, critical);
    if (w !== undefined || c !== undefined) thresholds[metric] = { ...(w !== undefined ? { warn: w } : {}), ...(c !== undefined ? { critical: c } : {}) };
  }
  const change: PolicyOverride = {};
  if (Object.keys(thresholds).length > 0) change.thresholds = thresholds;
  const minSample = wholeNumber('--min-sample', o.minSample);
  if (minSample !== undefined) change.minSample = minSample;
  const sustain = wholeNumber('--sustain-seconds', o.sustainSeconds);
  if (sustain !== undefined) change.sustainSeconds = sustain;
  if (o.autoPause) change.autoPauseOnCritical = o.autoPause === 'on';
  if (o.reset) {
    if (Object.keys(change).length > 0) throw new CommandError('--reset cannot be combined with other changes');
    return 'reset';
  }
  return Object.keys(change).length > 0 ? change : undefined;
}
