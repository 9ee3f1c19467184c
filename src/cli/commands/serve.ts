import type { Command } from 'commander';
import { Option } from 'commander';
import { createShutdown } from '../../lib/shutdown.js';
import { commandEnvironment, type CommandRoot, type ServeRole } from '../context.js';

export function registerServe(program: Command, root: CommandRoot) {
  program
    .command('serve')
    .description('run the service: HTTP (health, Slack, webhooks) and send workers')
    .addOption(new Option('--role <role>', 'all, web (HTTP only) or worker (sending only)').choices(['all', 'web', 'worker']).default('all'))
    .action(async (options: { role: ServeRole }) => {
      const { config, logger } = commandEnvironment('info');
      const shutdown = createShutdown(logger);
      shutdown.onSignals();
      const app = await root.startApp(config, logger, { role: options.role });
      shutdown.add('app', app.stop);
    });

  program
    .command('migrate')
    .description('apply database migrations (serve also does this on start)')
    .action(async () => {
      const { config, logger } = commandEnvironment('warn');
      await root.migrateDatabase(config, logger);
      process.stdout.write('migrations applied\n');
    });
}
