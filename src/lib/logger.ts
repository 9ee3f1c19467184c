import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr, so stdout stays clean for `--json` answers, or into `file`
 * (made anew) where a command's output is a story for a person (the demo).
 * User-supplied strings are logged as fields, never interpolated into the message.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}, file?: string): Logger {
  return pino(
    {
      level,
      base: { service: 'campaign-guard', ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['*.password', '*.token', 'config.slack.botToken', 'config.slack.appToken', 'config.slack.signingSecret', 'config.onCall.pagerDuty.routingKey', 'config.onCall.webhook.secret'], censor: '[redacted]' },
    },
    file ? pino.destination({ dest: file, sync: true, mkdir: true, append: false }) : pino.destination({ fd: 2, sync: true }),
  );
}

/** For code paths that must log nothing (a disabled dependency's no-op). */
export const silentLogger: Logger = pino({ level: 'silent' });
