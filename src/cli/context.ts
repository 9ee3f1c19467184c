import { openCommandContext } from '../app.js';
import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../lib/logger.js';

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
export async function withServices<T>(fn: (context: Awaited<ReturnType<typeof openCommandContext>>, env: CommandEnvironment) => Promise<T>): Promise<T> {
  const env = commandEnvironment('warn');
  const context = await openCommandContext(env.config, env.logger);
  try {
    return await fn(context, env);
  } finally {
    await context.close();
  }
}

export function printJson(value: unknown) {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
