import type { Command } from 'commander';
import { Option } from 'commander';
import { startApp, type Role } from '../../app.js';
import { runMigrations } from '../../db/migrate.js';
import { resolveInfrastructure } from '../../infrastructure.js';
import { reachable } from '../../lib/dependency-errors.js';
import { createShutdown } from '../../lib/shutdown.js';
import { commandEnvironment } from '../context.js';

export function registerServe(program: Command) {
  program
    .command('serve')
    .description('run the service: HTTP (health, Slack, webhooks) and send workers')
    .addOption(new Option('--role <role>', 'all, web (HTTP only) or worker (sending only)').choices(['all', 'web', 'worker']).default('all'))
    .action(async (options: { role: Role }) => {
      const { config, logger } = commandEnvironment('info');
      const shutdown = createShutdown(logger);
      shutdown.onSignals();
      const app = await startApp(config, logger, { role: options.role });
      shutdown.add('app', app.stop);
    });

  program
    .command('migrate')
    .description('apply database migrations (serve also does this on start)')
    .action(async () => {
      const { config, logger } = commandEnvironment('warn');
      const infrastructure = await resolveInfrastructure(config, logger, { redis: false });
      try {
        await reachable('Postgres', 'DATABASE_URL', () => runMigrations(infrastructure.databaseUrl));
        process.stdout.write('migrations applied\n');
      } finally {
        await infrastructure.stop();
      }
    });
}
