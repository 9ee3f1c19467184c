import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import type { AccessService } from '../services/access.js';
import type { AlertPolicyService } from '../services/alerts/policy.js';
import type { createAlertReader } from '../services/alerts/reader.js';
import type { createCampaignCreator } from '../services/campaigns/create-campaign.js';
import type { createLockService } from '../services/campaigns/locks.js';
import type { AcknowledgementService } from '../services/alerts/acknowledgement.js';
import type { ControlService } from '../services/control.js';
import type { StatusService } from '../services/status.js';
import type { SlackWriter } from '../slack/writer.js';

/**
 * What a command runs with: the configuration and a logger, and what the composition root
 * (src/app/) hands the CLI to reach the services — main.ts passes it to every `register…`.
 */

/** The services the commands use. */
export interface CommandServices {
  access: AccessService;
  alertPolicy: AlertPolicyService;
  alerts: ReturnType<typeof createAlertReader>;
  control: Pick<ControlService, 'cancel' | 'pause' | 'resume'>;
  onCall: Pick<AcknowledgementService, 'acknowledge'>;
  createCampaign: ReturnType<typeof createCampaignCreator>;
  locks: ReturnType<typeof createLockService>;
  status: StatusService;
}

export interface CommandContext {
  services: CommandServices;
  close(): Promise<void>;
}

/** A running `serve` (or demo): where it answers, its services, and how to stop it. */
export interface ServingApp {
  url: string;
  services: CommandServices;
  metrics: Metrics;
  notifier: { kick(): void } | undefined;
  stop(): Promise<void>;
}

export type ServeRole = 'all' | 'web' | 'worker';

/** What the composition root offers the commands. */
export interface CommandRoot {
  /** The database (migrated) and the services, for a one-shot command. */
  openCommandContext(config: Config, logger: Logger): Promise<CommandContext>;
  migrateDatabase(config: Config, logger: Logger): Promise<void>;
  startApp(config: Config, logger: Logger, options: { role: ServeRole; slackOffWriter?: SlackWriter }): Promise<ServingApp>;
}

export interface CommandEnvironment {
  config: Config;
  logger: Logger;
}

/** The configuration and a logger: on stderr, or into `logFile(config)` when a command names one. */
export function commandEnvironment(defaultLevel: 'info' | 'warn', logFile?: (config: Config) => string): CommandEnvironment {
  const config = loadConfig();
  return { config, logger: createLogger(config.logLevel ?? defaultLevel, {}, logFile?.(config)) };
}

/** Runs a one-shot command against the (migrated) database and always lets go of it. */
export async function withServices<T>(root: CommandRoot, fn: (context: CommandContext, env: CommandEnvironment) => Promise<T>): Promise<T> {
  const env = commandEnvironment('warn');
  const context = await root.openCommandContext(env.config, env.logger);
  try {
    return await fn(context, env);
  } finally {
    await context.close();
  }
}

export function printJson(value: unknown) {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
