import path from 'node:path';
import { z } from 'zod';
import type { Failpoint } from './domain/failpoints.js';
import { ConfigError } from './lib/config-error.js';
import { parseDatabaseUrl } from './lib/database-url.js';
import { parseRedisUrl } from './lib/redis-url.js';
import { alertsConfig, type AlertsConfig } from './config/alerts.js';
import { checkSmtpUrl, redisPrefix } from './config/connections.js';
import { envFileInUse } from './config/env-file.js';
import { onCallConfig, onCallSchema, type OnCallConfig } from './config/on-call.js';
import { slackConfig, type SlackConfig } from './config/slack.js';
import { base64SpkiPublicKey, blankToUndefined, boolean, integer, optionalMatching, parsedUrl, positiveNumber, rate, urlWithProtocols } from './config/values.js';

/**
 * The configuration: every environment variable, its kind and default (the schema, in the order
 * its problems are reported), and `loadConfig`, the only reader of the environment besides the
 * `.env` file (config/env-file.ts). Everything else receives a typed `Config`. A bad value is
 * reported as one line naming the variable, never as a stack trace. Sections: config/.
 */

export { readEnvFile } from './config/env-file.js';
export { parseRate } from './config/values.js';

/** How long a request (headers and body) may take to arrive; the HTTP server's own default too. */
export const DEFAULT_HTTP_REQUEST_TIMEOUT_SECONDS = 30;

const environmentSchema = z.object({
  DATABASE_URL: parsedUrl(parseDatabaseUrl),
  REDIS_URL: parsedUrl(parseRedisUrl),
  SMTP_URL: urlWithProtocols(['smtp:', 'smtps:'], 'smtp://host:25'),
  SLACK_BOT_TOKEN: optionalMatching(/^xoxb-[A-Za-z0-9-]+$/, 'must be a bot token starting with xoxb-'),
  SLACK_SIGNING_SECRET: optionalMatching(/^[A-Za-z0-9]{16,128}$/, 'must be the app signing secret (hex characters)'),
  SLACK_APP_TOKEN: optionalMatching(/^xapp-[A-Za-z0-9-]+$/, 'must be an app-level token starting with xapp-'),
  SLACK_API_URL: z.preprocess(
    blankToUndefined,
    z
      .string()
      .refine((value) => {
        try {
          return ['http:', 'https:'].includes(new URL(value).protocol);
        } catch {
          return false;
        }
      }, 'must be an http(s) URL like https://slack.com/api/')
      .optional()
      .transform((value) => {
        const url = value ?? 'https://slack.com/api/';
        return url.endsWith('/') ? url : `${url}/`;
      }),
  ),
  SLACK_ALERT_CHANNEL: optionalMatching(/^[CGD][A-Z0-9]{6,}$/, 'must be a Slack channel id like C0123456789'),
  SLACK_ALLOWED_TEAMS: optionalMatching(/^T[A-Z0-9]+(,T[A-Z0-9]+)*$/, 'must be a comma-separated list of team ids like T0123,T0456'),
  SLACK_ALLOWED_CHANNELS: optionalMatching(/^[CGD][A-Z0-9]{6,}(,[CGD][A-Z0-9]{6,})*$/, 'must be a comma-separated list of channel ids like C0123456789,G0123456789'),
  PORT: integer(0, 65535, 3000),
  HEALTH_PORT: integer(0, 65535, 3001),
  HOST: z.preprocess(blankToUndefined, z.string().optional().transform((v) => v ?? '0.0.0.0')),
  HTTP_REQUEST_TIMEOUT_SECONDS: integer(1, 600, DEFAULT_HTTP_REQUEST_TIMEOUT_SECONDS),
  SEND_CONCURRENCY: integer(1, 500, 8),
  SEND_RATE_PER_SECOND: positiveNumber(200),
  BOUNCE_RATE_WARN: rate(0.02),
  BOUNCE_RATE_CRITICAL: rate(0.05),
  ERROR_RATE_WARN: rate(0.05),
  ERROR_RATE_CRITICAL: rate(0.1),
  COMPLAINT_RATE_WARN: rate(0.0005),
  COMPLAINT_RATE_CRITICAL: rate(0.001),
  ALERT_MIN_SAMPLE: integer(1, 10_000_000, 100),
  ALERT_SUSTAIN_SECONDS: integer(0, 86_400, 15),
  ALERT_WINDOW_SECONDS: integer(10, 86_400, 300),
  AUTO_PAUSE_ON_CRITICAL: boolean(false),
  ...onCallSchema,
  SES_TOPIC_ARNS: optionalMatching(
    /^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(,arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256})*$/,
    'must be a comma-separated list of SNS topic ARNs like arn:aws:sns:us-east-1:123456789012:ses-feedback',
  ),
  SENDGRID_WEBHOOK_PUBLIC_KEY: base64SpkiPublicKey,
  EVENTS_WEBHOOK_SECRET: optionalMatching(/^\S{32,256}$/, 'must be at least 32 characters without spaces'),
  PREFETCH_LEAD_SECONDS: integer(0, 7 * 86_400, 300),
  SEND_LEASE_SECONDS: integer(1, 3600, 30),
  SMTP_TIMEOUT_SECONDS: integer(1, 600, 60),
  RELAY_FAULT_PAUSE_SECONDS: integer(1, 3600, 30),
  RELAY_CHECK_TIMEOUT_SECONDS: integer(1, 120, 10),
  DATA_DIR: z.preprocess(blankToUndefined, z.string().optional().transform((v) => path.resolve(v ?? '.data'))),
  REDIS_PREFIX: optionalMatching(
    /^(?=.{1,64}$)[A-Za-z0-9:_-]*(\{[A-Za-z0-9:_-]+\})?[A-Za-z0-9:_-]*$/,
    'must be 1-64 letters, digits, ":", "_" or "-", with at most one hash tag like {cg}',
  ),
  FAILPOINTS: optionalMatching(
    /^(crash-after-accept|crash-before-handoff)(=\d{1,9})?(,(crash-after-accept|crash-before-handoff)(=\d{1,9})?)*$/,
    'must be a comma-separated list like crash-after-accept=25 (for fault tests only)',
  ),
  LOG_LEVEL: z.preprocess(
    blankToUndefined,
    z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        message: 'must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .optional(),
  ),
});

type Environment = z.infer<typeof environmentSchema>;

export interface Config {
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  redisPrefix: string;
  smtpUrl: string | undefined;
  dataDir: string;
  /**
   * `port`: the HTTP server of `serve` (web and all). `healthPort`: a worker process's own
   * /healthz, /readyz and /metrics, apart from PORT so a web and a worker on one machine both bind.
   * `requestTimeoutSeconds`: a request's headers and body must have arrived within it (a trickled body is cut).
   */
  http: { port: number; host: string; healthPort: number; requestTimeoutSeconds: number };
  slack: SlackConfig;
  sending: {
    concurrency: number;
    ratePerSecond: number;
    prefetchLeadSeconds: number;
    leaseSeconds: number;
    /** How long an SMTP server may stay silent (connect, greeting, any reply) before the attempt is given up. */
    smtpTimeoutSeconds: number;
    /** How long the relay may keep failing as a whole (login, TLS, connection) before sending deployments are paused. */
    relayFaultPauseSeconds: number;
    /** The readiness check's budget for connecting, EHLO and login. */
    relayCheckTimeoutSeconds: number;
  };
  alerts: AlertsConfig;
  /** Mentions, escalation, pagers and links of alerts (config/on-call.ts). */
  onCall: OnCallConfig;
  /** Each provider webhook is off (404) until its secret or allowlist is set. */
  webhooks: {
    sesTopicArns: string[];
    sendgridPublicKey: string | undefined;
    eventsSecret: string | undefined;
  };
  /**
   * Fault tests only: `crash-after-accept=N` kills the process (SIGKILL) right after the Nth
   * message the SMTP server accepted, before the outcome is recorded; `crash-before-handoff=N`
   * right before the Nth hand-off. Empty in production.
   */
  failpoints: Partial<Record<Failpoint, number>>;
  /** Unset: `serve` logs at info, one-shot commands at warn. */
  logLevel: Environment['LOG_LEVEL'];
  /** The `.env` file read into the environment at start, if any. */
  envFile: string | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const e = parsed.data;
  checkSmtpUrl(e.SMTP_URL);
  const alerts = alertsConfig(e);

  return {
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: redisPrefix(e),
    smtpUrl: e.SMTP_URL,
    dataDir: e.DATA_DIR,
    http: { port: e.PORT, host: e.HOST, healthPort: e.HEALTH_PORT, requestTimeoutSeconds: e.HTTP_REQUEST_TIMEOUT_SECONDS },
    slack: slackConfig(e),
    sending: {
      concurrency: e.SEND_CONCURRENCY,
      ratePerSecond: e.SEND_RATE_PER_SECOND,
      prefetchLeadSeconds: e.PREFETCH_LEAD_SECONDS,
      leaseSeconds: e.SEND_LEASE_SECONDS,
      smtpTimeoutSeconds: e.SMTP_TIMEOUT_SECONDS,
      relayFaultPauseSeconds: e.RELAY_FAULT_PAUSE_SECONDS,
      relayCheckTimeoutSeconds: e.RELAY_CHECK_TIMEOUT_SECONDS,
    },
    alerts,
    onCall: onCallConfig(e),
    webhooks: {
      sesTopicArns: e.SES_TOPIC_ARNS ? e.SES_TOPIC_ARNS.split(',') : [],
      sendgridPublicKey: e.SENDGRID_WEBHOOK_PUBLIC_KEY?.replace(/\s+/g, ''),
      eventsSecret: e.EVENTS_WEBHOOK_SECRET,
    },
    failpoints: failpointCounts(e.FAILPOINTS),
    logLevel: e.LOG_LEVEL,
    envFile: envFileInUse(),
  };
}

/** FAILPOINTS (name=count, count 1 when left out): test-only crash points. */
function failpointCounts(list: string | undefined): Partial<Record<Failpoint, number>> {
  return Object.fromEntries(
    (list ? list.split(',') : []).map((entry) => {
      const [name, count] = entry.split('=');
      return [name as Failpoint, Number(count ?? 1)];
    }),
  );
}
