#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { migrateDatabase, openCommandContext } from './app/command-context.js';
import { startApp } from './app/serve.js';
import { registerAccess } from './cli/commands/access.js';
import { registerCampaign } from './cli/commands/campaign.js';
import { registerAlerts } from './cli/commands/alerts.js';
import { registerControl } from './cli/commands/control.js';
import { registerDemo } from './cli/commands/demo.js';
import { registerServe } from './cli/commands/serve.js';
import { registerStatus } from './cli/commands/status.js';
import type { CommandRoot } from './cli/context.js';
import { CommandError, EXIT } from './cli/errors.js';
import { readEnvFile } from './config.js';
import { ConfigError } from './lib/config-error.js';
import { DependencyMisconfigured, DependencyUnavailable, diskFullError, diskFullMessage } from './lib/dependency-errors.js';
import { RedisServerMissing } from './lib/embedded/redis.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('campaign-guard')
  .description('Campaign Guard: stops bad email sends fast')
  .version(version, '-V, --version', 'print the version')
  .option('--dotenv <file>', 'read variables from this file (default: .env in the working directory, when there is one); the environment wins over it')
  .option('--no-dotenv', 'read no .env file')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .hook('preAction', () => readEnvFile((program.opts() as { dotenv?: string | false }).dotenv));

// The commands reach the services through the composition root, handed to them here.
const root: CommandRoot = { openCommandContext, migrateDatabase, startApp };
registerServe(program, root);
registerCampaign(program, root);
registerStatus(program, root);
registerControl(program, root);
registerAlerts(program, root);
registerAccess(program, root);
registerDemo(program, root);

function fail(message: string, code: number): never {
  process.stderr.write(`campaign-guard: ${message.split('\n')[0]}\n`);
  process.exit(code);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  // First: a full disk is named as such, whatever layer met it (a query, a COPY, a server's start).
  const diskFull = diskFullError(error);
  if (diskFull) fail(diskFullMessage(diskFull), EXIT.unavailable);
  if (error instanceof ConfigError) fail(`configuration error: ${error.message}`, EXIT.usage);
  if (error instanceof CommandError) fail(error.message, error.exitCode);
  if (error instanceof RedisServerMissing) fail(error.message, EXIT.usage);
  if (error instanceof DependencyUnavailable) fail(error.message, EXIT.unavailable);
  if (error instanceof DependencyMisconfigured) fail(error.message, EXIT.unavailable);
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`campaign-guard: unexpected error: ${message.split('\n')[0]}\n`);
  if (error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(EXIT.internal);
}
