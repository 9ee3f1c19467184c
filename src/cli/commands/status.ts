import type { Command } from 'commander';
import { activeJson, renderActiveText, renderStatusText, statusJson } from '../render.js';
import { printJson, withServices, type CommandRoot } from '../context.js';
import { CommandError, EXIT } from '../errors.js';

export function registerStatus(program: Command, root: CommandRoot) {
  program
    .command('status [id]')
    .description('a campaign or deployment by id or name; without an id, everything scheduled or sending')
    .option('--json', 'print JSON (id, status, counts, cancelledBy, cancelledAt for each deployment)')
    .action(async (id: string | undefined, options: { json?: boolean }) => {
      await withServices(root, async ({ services }) => {
        if (id === undefined) {
          const active = await services.status.active();
          if (options.json) printJson(activeJson(active));
          else process.stdout.write(`${renderActiveText(active)}\n`);
          return;
        }
        const result = await services.status.lookup(id);
        if (!result.ok) {
          if (options.json) printJson({ error: { code: result.code, message: result.reason } });
          throw new CommandError(result.reason, result.code === 'invalid_reference' ? EXIT.usage : EXIT.refused);
        }
        if (options.json) printJson(statusJson(result.value));
        else process.stdout.write(`${renderStatusText(result.value)}\n`);
      });
    });
}
