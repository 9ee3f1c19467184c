import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { parseDatabaseUrl } from './db/tls-url.js';
import { hasHashTag, parseRedisUrl } from './queue/redis-url.js';
import { parseSmtpUrl } from './mail/smtp-url.js';

/**
 * The only reader of the environment. Everything else receives a typed `Config`.
 * A bad value is reported as one line naming the variable, never as a stack trace.
 */

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

const blankToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const urlWithProtocols = (protocols: string[], example: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .refine((value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      }, `must be a URL like ${example}`)
      .optional(),
  );

/** A URL checked by its own parser (no I/O), whose problem is reported as is (never with the value). */
const parsedUrl = <T>(check: (value: string) => T | { problem: string }) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .superRefine((value, context) => {
        const result = check(value);
        if (result && typeof result === 'object' && 'problem' in result) context.addIssue({ code: 'custom', message: result.problem });
      })
      .optional(),
  );

const integer = (min: number, max: number, fallback: number) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
      .transform(Number)
      .refine((n) => n >= min && n <= max, `must be a whole number between ${min} and ${max}`)
      .optional()
      .transform((n) => n ?? fallback),
  );

const positiveNumber = (fallback: number) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a positive number')
      .transform(Number)
      .refine((n) => n > 0, 'must be a positive number')
      .optional()
      .transform((n) => n ?? fallback),
  );

/** Rates are accepted as a fraction (0.05) or a percentage (5%); a bare 5 is ambiguous and refused. */
export function parseRate(text: string): number | undefined {
  if (!/^\d+(\.\d+)?%?$/.test(text)) return undefined;
  const value = text.endsWith('%') ? Number(text.slice(0, -1)) / 100 : Number(text);
  return value > 0 && value <= 1 ? value : undefined;
}

const RATE_PROBLEM = 'must be a fraction between 0 and 1 (like 0.05) or a percentage (like 5%)';

const rate = (fallback: number) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d+(\.\d+)?%?$/, 'must be a fraction like 0.05 or a percentage like 5%')
      .refine((text) => parseRate(text) !== undefined, RATE_PROBLEM)
      .transform((text) => parseRate(text)!)
      .optional()
      .transform((n) => n ?? fallback),
  );

const boolean = (fallback: boolean) =>
  z.preprocess(
    blankToUndefined,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
      .transform((v) => v === 'true' || v === '1' || v === 'yes')
      .optional()
      .transform((v) => v ?? fallback),
  );

const optionalMatching = (pattern: RegExp, message: string) =>
  z.preprocess(blankToUndefined, z.string().regex(pattern, message).optional());

const base64SpkiPublicKey = z.preprocess(
  blankToUndefined,
  z
    .string()
    .refine((value) => {
      try {
        createPublicKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'spki' });
        return /^[A-Za-z0-9+/=\s]+$/.test(value);
      } catch {
        return false;
      }
    }, 'must be the base64 public key from SendGrid (Settings → Mail Settings → Signed Event Webhook)')
    .optional(),
);

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

export type Failpoint = 'crash-after-accept' | 'crash-before-handoff';

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
  slack:
    | { mode: 'off' }
    | {
        mode: 'http' | 'socket';
        botToken: string;
        signingSecret: string | undefined;
        appToken: string | undefined;
        apiUrl: string;
        alertChannel: string | undefined;
        allowedTeams: string[];
        /** Where /campaign and the buttons work besides the alert channel (slack/channels.ts). */
        allowedChannels: string[];
      };
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
  alerts: {
    bounceRate: { warn: number; critical: number };
    errorRate: { warn: number; critical: number };
    complaintRate: { warn: number; critical: number };
    minSample: number;
    sustainSeconds: number;
    windowSeconds: number;
    autoPauseOnCritical: boolean;
  };
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

let envFileRead: string | undefined;

/**
 * Reads a `.env` file into the environment before the configuration is loaded: `file` names one
 * (it must be readable), undefined reads `.env` in the working directory when there is one, false
 * reads none. A variable already in the environment wins over the file, as with Node's --env-file.
 */
export function readEnvFile(file: string | false | undefined): void {
  if (file === false) return;
  const chosen = path.resolve(file ?? '.env');
  let text: string;
  try {
    text = readFileSync(chosen, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (file === undefined && code === 'ENOENT') return;
    throw new ConfigError(file === undefined ? '.env' : '--dotenv', `names ${chosen}, which cannot be read (${code ?? String(error)})`);
  }
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (process.env[name] === undefined && value !== undefined) process.env[name] = value;
  }
  envFileRead = chosen;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const e = parsed.data;
  if (e.SMTP_URL) {
    const smtp = parseSmtpUrl(e.SMTP_URL);
    if (!smtp.ok) throw new ConfigError('SMTP_URL', smtp.problem);
  }
  assertThresholdPair('BOUNCE_RATE', e.BOUNCE_RATE_WARN, e.BOUNCE_RATE_CRITICAL);
  assertThresholdPair('ERROR_RATE', e.ERROR_RATE_WARN, e.ERROR_RATE_CRITICAL);
  assertThresholdPair('COMPLAINT_RATE', e.COMPLAINT_RATE_WARN, e.COMPLAINT_RATE_CRITICAL);

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
    alerts: {
      bounceRate: { warn: e.BOUNCE_RATE_WARN, critical: e.BOUNCE_RATE_CRITICAL },
      errorRate: { warn: e.ERROR_RATE_WARN, critical: e.ERROR_RATE_CRITICAL },
      complaintRate: { warn: e.COMPLAINT_RATE_WARN, critical: e.COMPLAINT_RATE_CRITICAL },
      minSample: e.ALERT_MIN_SAMPLE,
      sustainSeconds: e.ALERT_SUSTAIN_SECONDS,
      windowSeconds: e.ALERT_WINDOW_SECONDS,
      autoPauseOnCritical: e.AUTO_PAUSE_ON_CRITICAL,
    },
    webhooks: {
      sesTopicArns: e.SES_TOPIC_ARNS ? e.SES_TOPIC_ARNS.split(',') : [],
      sendgridPublicKey: e.SENDGRID_WEBHOOK_PUBLIC_KEY?.replace(/\s+/g, ''),
      eventsSecret: e.EVENTS_WEBHOOK_SECRET,
    },
    failpoints: Object.fromEntries(
      (e.FAILPOINTS ? e.FAILPOINTS.split(',') : []).map((entry) => {
        const [name, count] = entry.split('=');
        return [name as Failpoint, Number(count ?? 1)];
      }),
    ),
    logLevel: e.LOG_LEVEL,
    envFile: envFileRead,
  };
}

/**
 * On a Cluster, BullMQ's scripts need every key of a queue in one slot: the default prefix is
 * then hash-tagged, and a prefix without a hash tag is refused.
 */
function redisPrefix(e: Environment): string {
  const cluster = e.REDIS_URL !== undefined && (parseRedisUrl(e.REDIS_URL) as { kind?: string }).kind === 'cluster';
  if (!cluster) return e.REDIS_PREFIX ?? 'cg';
  if (e.REDIS_PREFIX !== undefined && !hasHashTag(e.REDIS_PREFIX)) {
    throw new ConfigError('REDIS_PREFIX', 'must contain a hash tag like {cg} when REDIS_URL names a Cluster (every key of a queue must be in one slot)');
  }
  return e.REDIS_PREFIX ?? '{cg}';
}

function assertThresholdPair(prefix: string, warn: number, critical: number) {
  if (warn >= critical) {
    throw new ConfigError(`${prefix}_WARN`, `(${warn}) must be lower than ${prefix}_CRITICAL (${critical})`);
  }
}

function slackConfig(e: Environment): Config['slack'] {
  const anySet = e.SLACK_BOT_TOKEN || e.SLACK_SIGNING_SECRET || e.SLACK_APP_TOKEN;
  if (!anySet) return { mode: 'off' };
  if (!e.SLACK_BOT_TOKEN) {
    throw new ConfigError('SLACK_BOT_TOKEN', 'is required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set');
  }
  if (!e.SLACK_APP_TOKEN && !e.SLACK_SIGNING_SECRET) {
    throw new ConfigError(
      'SLACK_SIGNING_SECRET',
      'is required for HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
    );
  }
  return {
    mode: e.SLACK_APP_TOKEN ? 'socket' : 'http',
    botToken: e.SLACK_BOT_TOKEN,
    signingSecret: e.SLACK_SIGNING_SECRET,
    appToken: e.SLACK_APP_TOKEN,
    apiUrl: e.SLACK_API_URL,
    alertChannel: e.SLACK_ALERT_CHANNEL,
    allowedTeams: e.SLACK_ALLOWED_TEAMS ? e.SLACK_ALLOWED_TEAMS.split(',') : [],
    allowedChannels: e.SLACK_ALLOWED_CHANNELS ? e.SLACK_ALLOWED_CHANNELS.split(',') : [],
  };
}
