import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { ConfigError } from '../../src/lib/config-error.js';
import { parseRedisUrl } from '../../src/lib/redis-url.js';

/** Valid Slack credentials (fake, but shaped like the real ones). */
const BOT = 'xoxb-1111-2222-abcdefABCDEF';
const SIGNING = '8f742231b10e8888abcd99yyyzzz85a5';
const APP = 'xapp-1-A0123-456-abcdef';

/** Runs loadConfig and returns the ConfigError it throws; fails the test if it throws anything else or nothing. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  let thrown: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected loadConfig(${JSON.stringify(env)}) to throw`).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

function expectOneLine(error: ConfigError) {
  expect(error.message).not.toMatch(/[\r\n\u2028\u2029]/);
  expect(error.message.trim()).not.toBe('');
  expect(error.message.startsWith(`${error.variable} `)).toBe(true);
  expect(error.stack ?? '').toBeTypeOf('string');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('loadConfig: defaults', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.smtpUrl).toBeUndefined();
    expect(config.redisPrefix).toBe('cg');
    expect(config.http).toEqual({ port: 3000, host: '0.0.0.0', healthPort: 3001, requestTimeoutSeconds: 30 });
    expect(config.slack).toEqual({ mode: 'off' });
    expect(config.sending).toEqual({ concurrency: 8, ratePerSecond: 200, prefetchLeadSeconds: 300, leaseSeconds: 30, smtpTimeoutSeconds: 60, relayFaultPauseSeconds: 30, relayCheckTimeoutSeconds: 10 });
    expect(config.alerts).toEqual({
      bounceRate: { warn: 0.02, critical: 0.05 },
      errorRate: { warn: 0.05, critical: 0.1 },
      complaintRate: { warn: 0.0005, critical: 0.001 },
      minSample: 100,
      sustainSeconds: 15,
      windowSeconds: 300,
      autoPauseOnCritical: false,
    });
    expect(config.logLevel).toBeUndefined();
  });

  it('resolves the default data dir to an absolute path', () => {
    const config = loadConfig({});
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(config.dataDir).toBe(path.resolve('.data'));
  });

  it('resolves a relative DATA_DIR to an absolute path and keeps an absolute one', () => {
    expect(loadConfig({ DATA_DIR: 'somewhere/else' }).dataDir).toBe(path.resolve('somewhere/else'));
    expect(loadConfig({ DATA_DIR: '/var/lib/cg' }).dataDir).toBe('/var/lib/cg');
  });

  it('uses the default Slack API URL once Slack is on', () => {
    const config = loadConfig({ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SIGNING });
    expect(config.slack.mode).toBe('http');
    if (config.slack.mode === 'off') throw new Error('unreachable');
    expect(config.slack.apiUrl).toBe('https://slack.com/api/');
    expect(config.slack.allowedTeams).toEqual([]);
    expect(config.slack.alertChannel).toBeUndefined();
  });

  it('reads only the env it is given, not process.env', () => {
    vi.stubEnv('PORT', 'abc');
    vi.stubEnv('SLACK_BOT_TOKEN', 'xoxp-not-a-bot-token');
    const config = loadConfig({ PORT: '4000' });
    expect(config.http.port).toBe(4000);
    expect(config.slack).toEqual({ mode: 'off' });
  });

  it('treats undefined values as unset', () => {
    expect(loadConfig({ PORT: undefined, BOUNCE_RATE_WARN: undefined })).toEqual(loadConfig({}));
  });
});

const ALL_VARIABLES = [
  'DATABASE_URL',
  'REDIS_URL',
  'SMTP_URL',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'SLACK_API_URL',
  'SLACK_ALERT_CHANNEL',
  'SLACK_ALLOWED_TEAMS',
  'SLACK_ALLOWED_CHANNELS',
  'PORT',
  'HEALTH_PORT',
  'HOST',
  'SEND_CONCURRENCY',
  'SEND_RATE_PER_SECOND',
  'BOUNCE_RATE_WARN',
  'BOUNCE_RATE_CRITICAL',
  'ERROR_RATE_WARN',
  'ERROR_RATE_CRITICAL',
  'COMPLAINT_RATE_WARN',
  'COMPLAINT_RATE_CRITICAL',
  'ALERT_MIN_SAMPLE',
  'ALERT_SUSTAIN_SECONDS',
  'ALERT_WINDOW_SECONDS',
  'AUTO_PAUSE_ON_CRITICAL',
  'SLACK_ALERT_MENTION',
  'SLACK_ALERT_MENTION_SEVERITY',
  'ALERT_ESCALATE_AFTER_SECONDS',
  'ALERT_RUNBOOK_URL',
  'ALERT_DASHBOARD_URL',
  'PAGERDUTY_ROUTING_KEY',
  'PAGERDUTY_EVENTS_URL',
  'ALERT_WEBHOOK_URL',
  'ALERT_WEBHOOK_SECRET',
  'SES_TOPIC_ARNS',
  'SENDGRID_WEBHOOK_PUBLIC_KEY',
  'EVENTS_WEBHOOK_SECRET',
  'PREFETCH_LEAD_SECONDS',
  'SEND_LEASE_SECONDS',
  'SMTP_TIMEOUT_SECONDS',
  'RELAY_FAULT_PAUSE_SECONDS',
  'RELAY_CHECK_TIMEOUT_SECONDS',
  'DATA_DIR',
  'REDIS_PREFIX',
  'FAILPOINTS',
  'LOG_LEVEL',
] as const;

describe('loadConfig: blank strings count as unset', () => {
  it.each(ALL_VARIABLES)('%s = "" and "   " give the defaults', (variable) => {
    const defaults = loadConfig({});
    expect(loadConfig({ [variable]: '' })).toEqual(defaults);
    expect(loadConfig({ [variable]: '   ' })).toEqual(defaults);
    expect(loadConfig({ [variable]: '\t\n' })).toEqual(defaults);
  });

  it('every variable blank at once gives the defaults', () => {
    const env = Object.fromEntries(ALL_VARIABLES.map((v) => [v, ' ']));
    expect(loadConfig(env)).toEqual(loadConfig({}));
  });
});

const RATE_VARIABLES = [
  'BOUNCE_RATE_WARN',
  'BOUNCE_RATE_CRITICAL',
  'ERROR_RATE_WARN',
  'ERROR_RATE_CRITICAL',
  'COMPLAINT_RATE_WARN',
  'COMPLAINT_RATE_CRITICAL',
] as const;

const INVALID: ReadonlyArray<readonly [variable: string, value: string]> = [
  ['DATABASE_URL', 'not-a-url'],
  ['DATABASE_URL', 'mysql://x'],
  ['DATABASE_URL', 'http://localhost:5432/db'],
  ['DATABASE_URL', 'localhost:5432'],
  ['REDIS_URL', 'http://x'],
  ['REDIS_URL', 'not a url'],
  ['REDIS_URL', 'localhost:6379'],
  ['REDIS_URL', 'redis+sentinel://s1:26379,s2:26379'],
  ['REDIS_URL', 'redis+sentinel://s1:26379/mymaster/db1'],
  ['REDIS_URL', 'redis+sentinel://s1:26379/mymaster?password=x'],
  ['REDIS_URL', 'redis+sentinel://s1:99999/mymaster'],
  ['REDIS_URL', 'redis+cluster://'],
  ['REDIS_URL', 'redis+cluster://n1:7000,n2:7001/0'],
  ['REDIS_URL', 'redis+cluster://n1:7000,,n2:7001'],
  ['REDIS_URL', 'redis+mesh://n1:7000'],
  ['DATABASE_URL', 'postgres://db/app?sslmode=verify'],
  ['DATABASE_URL', 'postgres://db/app?sslcrl=/etc/crl.pem'],
  ['DATABASE_URL', 'postgres://db/app?sslmode=require&sslrootcert=system'],
  ['HEALTH_PORT', 'abc'],
  ['HEALTH_PORT', '65536'],
  ['SMTP_URL', 'ftp://x'],
  ['SMTP_URL', 'http://mail.example.com'],
  ['SMTP_URL', 'mail.example.com:25'],
  ['SLACK_BOT_TOKEN', 'xoxp-1'],
  ['SLACK_BOT_TOKEN', 'xoxb-'],
  ['SLACK_BOT_TOKEN', 'xoxb-abc def'],
  ['SLACK_BOT_TOKEN', 'xapp-1-abc'],
  ['SLACK_SIGNING_SECRET', 'short'],
  ['SLACK_SIGNING_SECRET', '0123456789abcdef!'],
  ['SLACK_SIGNING_SECRET', 'a'.repeat(129)],
  ['SLACK_APP_TOKEN', 'xoxb-1-abc'],
  ['SLACK_APP_TOKEN', 'app-token'],
  ['SLACK_API_URL', 'ftp://slack.com/api/'],
  ['SLACK_API_URL', 'slack.com/api'],
  ['SLACK_ALERT_CHANNEL', 'general'],
  ['SLACK_ALERT_CHANNEL', '#general'],
  ['SLACK_ALERT_CHANNEL', 'C12'],
  ['SLACK_ALERT_CHANNEL', 'c0123456789'],
  ['SLACK_ALLOWED_TEAMS', 'acme'],
  ['SLACK_ALLOWED_TEAMS', 'T123,'],
  ['SLACK_ALLOWED_TEAMS', 'T123,,T456'],
  ['SLACK_ALLOWED_CHANNELS', '#incidents'],
  ['SLACK_ALLOWED_CHANNELS', 'C0123456789,'],
  ['SLACK_ALLOWED_CHANNELS', 'C0123456789, C0456789012'],
  ['SLACK_ALLOWED_CHANNELS', 'c0123456789'],
  ['SLACK_ALLOWED_CHANNELS', 'T0123456789'],
  ['PORT', 'abc'],
  ['PORT', '70000'],
  ['PORT', '65536'],
  ['PORT', '-1'],
  ['PORT', '80.5'],
  ['PORT', '3000abc'],
  ['SEND_CONCURRENCY', '0'],
  ['SEND_CONCURRENCY', '501'],
  ['SEND_CONCURRENCY', 'many'],
  ['SEND_CONCURRENCY', '2.5'],
  ['SEND_RATE_PER_SECOND', 'fast'],
  ['SEND_RATE_PER_SECOND', '0'],
  ['SEND_RATE_PER_SECOND', '-5'],
  ['SEND_RATE_PER_SECOND', '0.0'],
  ...RATE_VARIABLES.flatMap((variable) =>
    ['5', '150%', 'abc', '0', '-0.05', '1.5', '5 %', '%', '0.05%%'].map((value) => [variable, value] as const),
  ),
  ['ALERT_MIN_SAMPLE', '1.5'],
  ['ALERT_MIN_SAMPLE', '0'],
  ['ALERT_MIN_SAMPLE', 'lots'],
  ['ALERT_SUSTAIN_SECONDS', '-1'],
  ['ALERT_SUSTAIN_SECONDS', '86401'],
  ['ALERT_SUSTAIN_SECONDS', '15s'],
  ['ALERT_WINDOW_SECONDS', '9'],
  ['ALERT_WINDOW_SECONDS', '5m'],
  ['SES_TOPIC_ARNS', 'my-topic'],
  ['SES_TOPIC_ARNS', 'arn:aws:sns:us-east-1:123:t'],
  ['SES_TOPIC_ARNS', 'arn:aws:sns:us-east-1:123456789012:ok,'],
  ['SES_TOPIC_ARNS', 'arn:aws:sqs:us-east-1:123456789012:queue'],
  ['SENDGRID_WEBHOOK_PUBLIC_KEY', 'not a key'],
  ['SENDGRID_WEBHOOK_PUBLIC_KEY', 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O'],
  ['EVENTS_WEBHOOK_SECRET', 'short'],
  ['EVENTS_WEBHOOK_SECRET', 'has a space in it but is long enough to pass the length'],
  ['AUTO_PAUSE_ON_CRITICAL', 'maybe'],
  ['AUTO_PAUSE_ON_CRITICAL', '2'],
  ['SLACK_ALERT_MENTION', '@oncall'],
  ['SLACK_ALERT_MENTION', '<!subteam^S0123456789'],
  ['SLACK_ALERT_MENTION', 'S0123456789;U0123456789'],
  ['SLACK_ALERT_MENTION_SEVERITY', 'info'],
  ['ALERT_ESCALATE_AFTER_SECONDS', '-1'],
  ['ALERT_ESCALATE_AFTER_SECONDS', '10m'],
  ['ALERT_RUNBOOK_URL', 'wiki/runbook'],
  ['ALERT_RUNBOOK_URL', 'https://wiki.example.com/{campaign}'],
  ['ALERT_DASHBOARD_URL', 'ftp://grafana.example.com/d/x'],
  ['ALERT_DASHBOARD_URL', 'https://grafana.example.com/d/x?var={deployment_id'],
  ['PAGERDUTY_ROUTING_KEY', 'short'],
  ['PAGERDUTY_ROUTING_KEY', 'R0' + 'x'.repeat(29) + '!'],
  ['PAGERDUTY_EVENTS_URL', 'events.pagerduty.com/v2/enqueue'],
  ['ALERT_WEBHOOK_URL', 'pager.example.com'],
  ['ALERT_WEBHOOK_URL', 'ftp://pager.example.com/in'],
  ['PAGERDUTY_EVENTS_URL', 'https://'],
  ['ALERT_WEBHOOK_SECRET', 'short'],
  ['PREFETCH_LEAD_SECONDS', '-1'],
  ['PREFETCH_LEAD_SECONDS', String(7 * 86_400 + 1)],
  ['PREFETCH_LEAD_SECONDS', '5m'],
  ['SEND_LEASE_SECONDS', '0'],
  ['SEND_LEASE_SECONDS', '3601'],
  ['SEND_LEASE_SECONDS', '30s'],
  ['SMTP_TIMEOUT_SECONDS', '0'],
  ['SMTP_TIMEOUT_SECONDS', '601'],
  ['SMTP_TIMEOUT_SECONDS', '1.5'],
  ['RELAY_FAULT_PAUSE_SECONDS', '0'],
  ['RELAY_FAULT_PAUSE_SECONDS', '3601'],
  ['RELAY_CHECK_TIMEOUT_SECONDS', '0'],
  ['RELAY_CHECK_TIMEOUT_SECONDS', 'soon'],
  ['REDIS_PREFIX', 'has space'],
  ['REDIS_PREFIX', 'x'.repeat(65)],
  ['REDIS_PREFIX', 'cg{}'],
  ['REDIS_PREFIX', '{cg'],
  ['REDIS_PREFIX', '{a}{b}'],
  ['FAILPOINTS', 'crash-now'],
  ['FAILPOINTS', 'crash-after-accept=x'],
  ['LOG_LEVEL', 'loud'],
  ['LOG_LEVEL', 'verbose'],
];

describe('loadConfig: provider webhooks', () => {
  it('is off until each one is configured', () => {
    expect(loadConfig({}).webhooks).toEqual({ sesTopicArns: [], sendgridPublicKey: undefined, eventsSecret: undefined });
  });

  it('takes a topic allowlist, a SendGrid public key and a shared secret', () => {
    const key = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==';
    const config = loadConfig({
      SES_TOPIC_ARNS: 'arn:aws:sns:us-east-1:123456789012:ses-feedback,arn:aws-cn:sns:cn-north-1:123456789012:b',
      SENDGRID_WEBHOOK_PUBLIC_KEY: key,
      EVENTS_WEBHOOK_SECRET: 'x'.repeat(32),
    });
    expect(config.webhooks.sesTopicArns).toEqual(['arn:aws:sns:us-east-1:123456789012:ses-feedback', 'arn:aws-cn:sns:cn-north-1:123456789012:b']);
    expect(config.webhooks.sendgridPublicKey).toBe(key);
    expect(config.webhooks.eventsSecret).toBe('x'.repeat(32));
    expect(config.alerts.windowSeconds).toBe(300);
  });
});

describe('loadConfig: on-call (mentions, escalation, pagers, links)', () => {
  const KEY = 'R0123456789abcdefABCDEF012345678';
  it('mentions nobody, escalates after 15 minutes and pages nothing by default', () => {
    expect(loadConfig({}).onCall).toEqual({
      mention: undefined,
      mentionMinSeverity: 'warning',
      escalateAfterSeconds: 900,
      links: { runbook: undefined, dashboard: undefined },
      pagerDuty: undefined,
      webhook: undefined,
      pagerDestinations: [],
    });
  });

  it('writes bare ids as Slack mentions and keeps Slack\'s own forms', () => {
    expect(loadConfig({ SLACK_ALERT_MENTION: 'S0123456789, U0123456789 <!subteam^S0AB12CD3|@oncall> @here' }).onCall.mention).toBe(
      '<!subteam^S0123456789> <@U0123456789> <!subteam^S0AB12CD3|@oncall> <!here>',
    );
  });

  it('takes PagerDuty with its default endpoint, and the webhook with its secret', () => {
    const config = loadConfig({ PAGERDUTY_ROUTING_KEY: KEY, ALERT_WEBHOOK_URL: 'https://pager.example.com/in', ALERT_WEBHOOK_SECRET: 's'.repeat(32) });
    expect(config.onCall.pagerDuty).toEqual({ routingKey: KEY, eventsUrl: 'https://events.pagerduty.com/v2/enqueue' });
    expect(config.onCall.webhook).toEqual({ url: 'https://pager.example.com/in', secret: 's'.repeat(32) });
    expect(config.onCall.pagerDestinations).toEqual(['pagerduty', 'webhook']);
  });

  it('O9: refuses half a pager: a webhook URL without its secret and the reverse, an events URL without a routing key', () => {
    expect(configError({ ALERT_WEBHOOK_URL: 'https://pager.example.com/in' }).variable).toBe('ALERT_WEBHOOK_SECRET');
    expect(configError({ ALERT_WEBHOOK_SECRET: 's'.repeat(32) }).variable).toBe('ALERT_WEBHOOK_URL');
    expect(configError({ PAGERDUTY_EVENTS_URL: 'http://127.0.0.1:9/v2/enqueue' }).variable).toBe('PAGERDUTY_ROUTING_KEY');
  });

  it('accepts link templates with the known placeholders', () => {
    const config = loadConfig({ ALERT_RUNBOOK_URL: 'https://wiki.example.com/runbooks/bounces', ALERT_DASHBOARD_URL: 'https://grafana.example.com/d/s?var-c={campaign_id}&var-d={deployment_id}' });
    expect(config.onCall.links.dashboard).toBe('https://grafana.example.com/d/s?var-c={campaign_id}&var-d={deployment_id}');
  });
});

describe('loadConfig: failpoints (fault tests only)', () => {
  it('is empty by default and parses a list', () => {
    expect(loadConfig({}).failpoints).toEqual({});
    expect(loadConfig({ FAILPOINTS: 'crash-after-accept=25,crash-before-handoff' }).failpoints).toEqual({ 'crash-after-accept': 25, 'crash-before-handoff': 1 });
  });
});

describe('loadConfig: invalid values', () => {
  it.each(INVALID)('%s=%j is refused with a one-line ConfigError naming it', (variable, value) => {
    const error = configError({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.name).toBe('ConfigError');
    expect(error).toBeInstanceOf(Error);
    expectOneLine(error);
  });

  it('covers every variable of the schema that has a format (HOST and DATA_DIR take any text)', () => {
    const covered = new Set(INVALID.map(([variable]) => variable));
    const free = new Set(['HOST', 'DATA_DIR']);
    expect(ALL_VARIABLES.filter((v) => !covered.has(v) && !free.has(v))).toEqual([]);
  });

  it('stays one line even when the bad value itself spans lines', () => {
    for (const [variable, value] of [
      ['LOG_LEVEL', 'info\nFATAL injected'],
      ['PORT', '3000\r\n3001'],
      ['SLACK_ALERT_CHANNEL', 'C0123456789\nC999'],
      ['DATABASE_URL', 'mysql://x\npostgres://y'],
    ] as const) {
      const error = configError({ [variable]: value });
      expect(error.variable).toBe(variable);
      expectOneLine(error);
    }
  });

  it('names the first bad variable when several are bad, still in one line', () => {
    const error = configError({ PORT: 'abc', LOG_LEVEL: 'loud', SMTP_URL: 'ftp://x' });
    expect(['PORT', 'LOG_LEVEL', 'SMTP_URL']).toContain(error.variable);
    expectOneLine(error);
  });
});

describe('loadConfig: secrets never appear in error messages', () => {
  const cases = [
    ['SLACK_SIGNING_SECRET', 'Sup3rS3cretSigningValue-with-dash'],
    ['SLACK_SIGNING_SECRET', 'abc'],
    ['SLACK_BOT_TOKEN', 'xoxp-9999-topsecretvalue'],
    ['SLACK_APP_TOKEN', 'xoxb-app-topsecretvalue'],
    ['DATABASE_URL', 'mysql://admin:hunter2-db-password@db.internal/app'],
    ['REDIS_URL', 'http://:redis-password-xyz@cache.internal:6379'],
    ['SMTP_URL', 'ftp://mailer:smtp-password-xyz@mail.internal'],
  ] as const;

  it.each(cases)('%s: the malformed value is not echoed', (variable, value) => {
    const error = configError({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).not.toContain(value);
    expect(error.problem).not.toContain(value);
    for (const fragment of ['Sup3rS3cret', 'topsecretvalue', 'hunter2', 'redis-password', 'smtp-password']) {
      expect(error.message).not.toContain(fragment);
    }
  });

  it('does not echo a valid signing secret when another Slack setting is missing', () => {
    const error = configError({ SLACK_SIGNING_SECRET: SIGNING });
    expect(error.variable).toBe('SLACK_BOT_TOKEN');
    expect(error.message).not.toContain(SIGNING);
  });

  it('does not echo a valid bot token when the signing secret is missing', () => {
    const error = configError({ SLACK_BOT_TOKEN: BOT });
    expect(error.message).not.toContain(BOT);
  });
});

describe('loadConfig: valid values', () => {
  it('accepts postgres, redis and smtp URLs of both schemes', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://u:p@db:5432/app',
      REDIS_URL: 'rediss://cache:6380',
      SMTP_URL: 'smtps://mail:465',
    });
    expect(config.databaseUrl).toBe('postgresql://u:p@db:5432/app');
    expect(config.redisUrl).toBe('rediss://cache:6380');
    expect(config.smtpUrl).toBe('smtps://mail:465');
    expect(loadConfig({ DATABASE_URL: 'postgres://db/app', REDIS_URL: 'redis://c:6379', SMTP_URL: 'smtp://m:25' }))
      .toMatchObject({ databaseUrl: 'postgres://db/app', redisUrl: 'redis://c:6379', smtpUrl: 'smtp://m:25' });
  });

  it('parses numbers at their bounds', () => {
    expect(loadConfig({ PORT: '0' }).http.port).toBe(0);
    expect(loadConfig({ PORT: '65535' }).http.port).toBe(65535);
    expect(loadConfig({ SEND_CONCURRENCY: '1' }).sending.concurrency).toBe(1);
    expect(loadConfig({ SEND_CONCURRENCY: '500' }).sending.concurrency).toBe(500);
    expect(loadConfig({ SEND_RATE_PER_SECOND: '0.5' }).sending.ratePerSecond).toBe(0.5);
    expect(loadConfig({ SEND_RATE_PER_SECOND: '1000' }).sending.ratePerSecond).toBe(1000);
    expect(loadConfig({ ALERT_MIN_SAMPLE: '1' }).alerts.minSample).toBe(1);
    expect(loadConfig({ ALERT_SUSTAIN_SECONDS: '0' }).alerts.sustainSeconds).toBe(0);
    expect(loadConfig({ PREFETCH_LEAD_SECONDS: '0' }).sending.prefetchLeadSeconds).toBe(0);
  });

  it.each(RATE_VARIABLES)('%s accepts a fraction (0.05) and a percentage (5%%) as the same rate', (variable) => {
    // Keep the pair ordered: lower the WARN of the pair for CRITICAL, raise CRITICAL for WARN.
    const pair = variable.endsWith('_WARN')
      ? { [variable.replace('_WARN', '_CRITICAL')]: '0.5' }
      : { [variable.replace('_CRITICAL', '_WARN')]: '0.0001' };
    const read = (config: Config) => {
      const key = variable.startsWith('BOUNCE') ? 'bounceRate' : variable.startsWith('ERROR') ? 'errorRate' : 'complaintRate';
      return config.alerts[key][variable.endsWith('_WARN') ? 'warn' : 'critical'];
    };
    expect(read(loadConfig({ ...pair, [variable]: '0.05' }))).toBeCloseTo(0.05, 12);
    expect(read(loadConfig({ ...pair, [variable]: '5%' }))).toBeCloseTo(0.05, 12);
    expect(read(loadConfig({ ...pair, [variable]: '0.5%' }))).toBeCloseTo(0.005, 12);
  });

  it('accepts 100% and 1 as a critical rate', () => {
    expect(loadConfig({ BOUNCE_RATE_CRITICAL: '100%' }).alerts.bounceRate.critical).toBe(1);
    expect(loadConfig({ ERROR_RATE_CRITICAL: '1' }).alerts.errorRate.critical).toBe(1);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ] as const)('AUTO_PAUSE_ON_CRITICAL=%s gives %s', (value, expected) => {
    expect(loadConfig({ AUTO_PAUSE_ON_CRITICAL: value }).alerts.autoPauseOnCritical).toBe(expected);
  });

  it.each(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const)('LOG_LEVEL=%s is accepted', (level) => {
    expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level);
  });

  it.each([
    ['redis+sentinel://s1:26379,s2:26380/mymaster', { kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }], name: 'mymaster', db: 0, tls: false }],
    ['rediss+sentinel://:p%40ss@s1,[::1]:26380/mymaster/3?sentinelPassword=sp', { kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }], db: 3, password: 'p@ss', sentinelPassword: 'sp', tls: true }],
    ['redis+cluster://u:pw@n1:7000,n2:7001', { kind: 'cluster', nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }], username: 'u', password: 'pw', tls: false }],
    ['rediss+cluster://n1', { kind: 'cluster', nodes: [{ host: 'n1', port: 6379 }], tls: true }],
    ['rediss://:secret@cache:6380/2', { kind: 'server', url: 'rediss://:secret@cache:6380/2' }],
  ] as const)('REDIS_URL %s names what it says', (url, expected) => {
    expect(loadConfig({ REDIS_URL: url }).redisUrl).toBe(url);
    expect(parseRedisUrl(url)).toMatchObject(expected);
  });

  it('hash-tags the default prefix on a Cluster, takes a hash-tagged one, and refuses one without a hash tag', () => {
    const cluster = 'redis+cluster://n1:7000,n2:7001';
    expect(loadConfig({ REDIS_URL: cluster }).redisPrefix).toBe('{cg}');
    expect(loadConfig({ REDIS_URL: cluster, REDIS_PREFIX: 'app:{cg}' }).redisPrefix).toBe('app:{cg}');
    expect(loadConfig({ REDIS_PREFIX: '{cg}' }).redisPrefix).toBe('{cg}');
    const error = configError({ REDIS_URL: cluster, REDIS_PREFIX: 'cg' });
    expect(error.variable).toBe('REDIS_PREFIX');
    expect(error.message).toContain('hash tag');
    expectOneLine(error);
  });

  it('takes the libpq TLS parameters of DATABASE_URL, and never echoes its password', () => {
    const url = 'postgres://u:hunter2@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=x';
    expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    const error = configError({ DATABASE_URL: 'postgres://u:hunter2@db.internal/app?sslmode=strict' });
    expect(error.message).toContain('sslmode');
    expect(error.message).not.toContain('hunter2');
  });

  it('takes HOST and REDIS_PREFIX as given', () => {
    const config = loadConfig({ HOST: '127.0.0.1', REDIS_PREFIX: 'cg:test_1-a' });
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.redisPrefix).toBe('cg:test_1-a');
  });
});

describe('loadConfig: warning thresholds must be below critical ones', () => {
  it.each([
    ['BOUNCE_RATE', '0.2', '0.1'],
    ['BOUNCE_RATE', '10%', '0.1'],
    ['ERROR_RATE', '0.5', '0.3'],
    ['ERROR_RATE', '0.3', '30%'],
    ['COMPLAINT_RATE', '1%', '0.5%'],
    ['COMPLAINT_RATE', '0.005', '0.005'],
  ] as const)('%s: WARN %s with CRITICAL %s is refused naming the _WARN variable', (prefix, warn, critical) => {
    const error = configError({ [`${prefix}_WARN`]: warn, [`${prefix}_CRITICAL`]: critical });
    expect(error.variable).toBe(`${prefix}_WARN`);
    expect(error.message).toContain(`${prefix}_CRITICAL`);
    expectOneLine(error);
  });

  it('compares against the default critical when only WARN is set', () => {
    const error = configError({ BOUNCE_RATE_WARN: '0.2' });
    expect(error.variable).toBe('BOUNCE_RATE_WARN');
    const error2 = configError({ COMPLAINT_RATE_CRITICAL: '0.0005' });
    expect(error2.variable).toBe('COMPLAINT_RATE_WARN');
  });

  it('accepts WARN just below CRITICAL', () => {
    const config = loadConfig({ BOUNCE_RATE_WARN: '9%', BOUNCE_RATE_CRITICAL: '0.1' });
    expect(config.alerts.bounceRate.warn).toBeCloseTo(0.09, 12);
    expect(config.alerts.bounceRate.critical).toBe(0.1);
  });
});

describe('loadConfig: Slack', () => {
  it('is off when no Slack credential is set, whatever the other Slack settings say', () => {
    const config = loadConfig({
      SLACK_API_URL: 'http://localhost:9999/api',
      SLACK_ALERT_CHANNEL: 'C0123456789',
      SLACK_ALLOWED_TEAMS: 'T123',
    });
    expect(config.slack).toEqual({ mode: 'off' });
  });

  it('selects HTTP mode with a bot token and a signing secret', () => {
    const config = loadConfig({ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SIGNING });
    expect(config.slack).toEqual({
      mode: 'http',
      botToken: BOT,
      signingSecret: SIGNING,
      appToken: undefined,
      apiUrl: 'https://slack.com/api/',
      alertChannel: undefined,
      allowedTeams: [],
      allowedChannels: [],
    });
  });

  it('selects Socket Mode with a bot token and an app token', () => {
    const config = loadConfig({ SLACK_BOT_TOKEN: BOT, SLACK_APP_TOKEN: APP });
    expect(config.slack).toMatchObject({ mode: 'socket', botToken: BOT, appToken: APP, signingSecret: undefined });
  });

  it('prefers Socket Mode when both the signing secret and the app token are set', () => {
    const config = loadConfig({ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SIGNING, SLACK_APP_TOKEN: APP });
    expect(config.slack).toMatchObject({ mode: 'socket', signingSecret: SIGNING, appToken: APP });
  });

  it('refuses a bot token without a signing secret or app token, naming SLACK_SIGNING_SECRET', () => {
    const error = configError({ SLACK_BOT_TOKEN: BOT });
    expect(error.variable).toBe('SLACK_SIGNING_SECRET');
    expectOneLine(error);
  });

  it('treats a blank signing secret as missing', () => {
    const error = configError({ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: '  ', SLACK_APP_TOKEN: '' });
    expect(error.variable).toBe('SLACK_SIGNING_SECRET');
  });

  it('refuses a signing secret without a bot token, naming SLACK_BOT_TOKEN', () => {
    const error = configError({ SLACK_SIGNING_SECRET: SIGNING });
    expect(error.variable).toBe('SLACK_BOT_TOKEN');
    expectOneLine(error);
  });

  it('refuses an app token without a bot token, naming SLACK_BOT_TOKEN', () => {
    const error = configError({ SLACK_APP_TOKEN: APP });
    expect(error.variable).toBe('SLACK_BOT_TOKEN');
    expectOneLine(error);
  });

  it('adds a trailing slash to SLACK_API_URL and keeps one that is there', () => {
    const base = { SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SIGNING };
    const apiUrl = (value: string) => {
      const slack = loadConfig({ ...base, SLACK_API_URL: value }).slack;
      return slack.mode === 'off' ? undefined : slack.apiUrl;
    };
    expect(apiUrl('http://localhost:9999/api')).toBe('http://localhost:9999/api/');
    expect(apiUrl('http://localhost:9999/api/')).toBe('http://localhost:9999/api/');
    expect(apiUrl('https://slack.com/api')).toBe('https://slack.com/api/');
  });

  it('splits SLACK_ALLOWED_TEAMS and keeps the alert channel', () => {
    const slack = loadConfig({
      SLACK_BOT_TOKEN: BOT,
      SLACK_SIGNING_SECRET: SIGNING,
      SLACK_ALLOWED_TEAMS: 'T0123,T0456,TABC9',
      SLACK_ALERT_CHANNEL: 'C0123456789',
    }).slack;
    expect(slack).toMatchObject({ allowedTeams: ['T0123', 'T0456', 'TABC9'], alertChannel: 'C0123456789' });
    const single = loadConfig({ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SIGNING, SLACK_ALLOWED_TEAMS: 'T1' }).slack;
    expect(single).toMatchObject({ allowedTeams: ['T1'] });
  });

  it('splits SLACK_ALLOWED_CHANNELS (private channels included)', () => {
    const slack = loadConfig({ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SIGNING, SLACK_ALLOWED_CHANNELS: 'C0123456789,G0INCIDENT1' }).slack;
    expect(slack).toMatchObject({ allowedChannels: ['C0123456789', 'G0INCIDENT1'] });
    expect(loadConfig({ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SIGNING }).slack).toMatchObject({ allowedChannels: [] });
  });

  it('accepts private-channel and DM ids for alerts', () => {
    for (const channel of ['G0123456', 'D0123456789']) {
      const slack = loadConfig({ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SIGNING, SLACK_ALERT_CHANNEL: channel }).slack;
      expect(slack).toMatchObject({ alertChannel: channel });
    }
  });
});
