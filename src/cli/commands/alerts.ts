import type { Command } from 'commander';
import type { AcknowledgeOutcome } from '../../services/alerts/acknowledgement.js';
import { printJson, withServices, type CommandRoot } from '../context.js';
import { CommandError, EXIT } from '../errors.js';

/**
 * `alerts ack <alert or deployment id> --actor USER`: the acknowledgement Slack's Acknowledge
 * button and `/campaign ack` make, for an operator at a terminal. Exit 0 when acknowledged, 1 when
 * refused (already acknowledged, no open alert, not permitted).
 */
export function acknowledgeText(outcome: AcknowledgeOutcome, actor: string): string {
  if (outcome.ok) return `Acknowledged ${outcome.value.alertIds.join(', ')} as ${actor}: it will not be re-announced or paged.`;
  if (outcome.code === 'already_acknowledged') return `Already acknowledged by ${outcome.by}${outcome.at ? ` at ${new Date(outcome.at).toISOString()}` : ''}. Nothing was changed.`;
  return `${outcome.reason} Nothing was changed.`;
}

export function registerAlerts(program: Command, root: CommandRoot) {
  const alerts = program.command('alerts').description('the on-call side of alerts');
  alerts
    .command('ack <id>')
    .description("acknowledge an alert (alr_…), or every open alert of a deployment (dep_…): \"I'm on it\", stops its re-announcement")
    .requiredOption('--actor <user>', 'who acknowledges (needs the responder or admin role)')
    .option('--json', 'print the outcome as JSON')
    .action((id: string, options: { actor: string; json?: boolean }) =>
      withServices(root, async ({ services }) => {
        const outcome = await services.onCall.acknowledge(id.normalize('NFKC').trim(), options.actor);
        if (options.json) printJson(outcome);
        if (!outcome.ok) throw new CommandError(acknowledgeText(outcome, options.actor), EXIT.refused);
        if (!options.json) process.stdout.write(`${acknowledgeText(outcome, options.actor)}\n`);
      }),
    );
}
