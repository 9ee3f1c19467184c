import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { describeOutcome, type ControlOutcome } from '../../domain/cancel-outcome.js';
import { printJson, withServices, type CommandRoot } from '../context.js';
import { CommandError, EXIT } from '../errors.js';

/**
 * `cancel`, `pause`, `resume`: the same service and the same outcome texts as Slack. Exit 0 when
 * the action happened (or, for cancel, there was nothing left to stop), 1 when it was refused.
 */
const DONE = new Set<ControlOutcome['outcome']>(['cancelled', 'nothing_left', 'paused', 'resumed']);

async function run(root: CommandRoot, action: 'cancel' | 'pause' | 'resume', id: string, options: { actor: string; reason?: string; json?: boolean }) {
  await withServices(root, async ({ services }) => {
    const request = { target: id.normalize('NFKC').trim(), actor: options.actor, reason: options.reason ?? null, requestKey: `cli:${randomUUID()}` };
    const outcome = await services.control[action](request);
    if (options.json) printJson(outcome);
    if (!DONE.has(outcome.outcome)) throw new CommandError(describeOutcome(outcome), EXIT.refused);
    if (!options.json) process.stdout.write(`${describeOutcome(outcome)}\n`);
  });
}

export function registerControl(program: Command, root: CommandRoot) {
  program
    .command('cancel <id>')
    .description('cancel a deployment, a campaign (every deployment of a multi campaign) or a batch that has not started; irreversible')
    .requiredOption('--actor <user>', 'who cancels (needs the responder or admin role)')
    .option('--reason <text>', 'why, for the audit log and the thread')
    .option('--json', 'print the outcome as JSON')
    .action((id: string, options: { actor: string; reason?: string; json?: boolean }) => run(root, 'cancel', id, options));

  program
    .command('pause <id>')
    .description('pause a deployment or campaign (reversible: resume continues where it stopped)')
    .requiredOption('--actor <user>', 'who pauses (needs the responder or admin role)')
    .option('--json', 'print the outcome as JSON')
    .action((id: string, options: { actor: string; json?: boolean }) => run(root, 'pause', id, options));

  program
    .command('resume <id>')
    .description('resume a paused deployment or campaign')
    .requiredOption('--actor <user>', 'who resumes (needs the responder or admin role)')
    .option('--json', 'print the outcome as JSON')
    .action((id: string, options: { actor: string; json?: boolean }) => run(root, 'resume', id, options));
}
