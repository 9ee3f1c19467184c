import { App, LogLevel, webApi, type Logger as BoltLogger } from '@slack/bolt';
import type { SlackConfig } from '../config/slack.js';
import { ConfigError } from '../lib/config-error.js';
import type { SqlExecutor } from '../db/client.js';
import type { Logger } from '../lib/logger.js';
import type { AccessService } from '../services/access.js';
import type { AcknowledgementService } from '../services/alerts/acknowledgement.js';
import type { AlertReader } from '../services/alerts/reader.js';
import type { ControlService } from '../services/control.js';
import type { StatusService } from '../services/status.js';
import { createGate } from './access.js';
import { createUserDirectory } from './directory.js';
import type { SlackDispatch } from './front-door.js';
import { createHomePublisher, type HomePublisher } from './home.js';
import { registerActions } from './listeners/actions/index.js';
import { registerCommands } from './listeners/commands/index.js';
import { registerEvents } from './listeners/events/index.js';
import type { ListenerDeps } from './listeners/support.js';
import { registerViews } from './listeners/views/index.js';
import { DispatchReceiver } from './receiver.js';
import type { SharedReplayGuard } from './replay-guard.js';
import { createSocketModeConnection } from './socket-mode.js';
import { webApiOptions } from './writer.js';

/**
 * The Bolt app. HTTP mode: no server of Bolt's own; our fastify route verifies each request and
 * dispatches it here (`dispatch`). Socket Mode when SLACK_APP_TOKEN is set. SLACK_API_URL reaches
 * every Web API call (the bot's and Socket Mode's). Initialisation is deferred: the bot token is
 * checked once with auth.test, and a refused token stops the process with one line.
 */
export type SlackOn = Extract<SlackConfig, { mode: 'http' | 'socket' }>;

export interface SlackAppOptions {
  slack: SlackOn;
  services: { control: ControlService; status: StatusService; access: AccessService; onCall: AcknowledgementService; alerts: Pick<AlertReader, 'openOnCall'> };
  sql: SqlExecutor;
  logger: Logger;
  outboxChanged(): void;
  /** Web API retries for interactive calls (tests turn them off). */
  retries?: number;
  /** The result of `checkSlackToken`, when the caller checked already. */
  auth?: webApi.AuthTestResponse;
  deadlineMs?: number;
  /** See ListenerDeps.quickAckMs (default 25 ms). */
  quickAckMs?: number;
  homeThrottleMs?: number;
  /** The replay memory every process shares (Socket Mode envelopes). */
  seenBefore?: SharedReplayGuard;
}

export interface SlackApp {
  mode: 'http' | 'socket';
  /** HTTP mode: what the front door calls with a verified request. */
  dispatch: SlackDispatch | undefined;
  client: webApi.WebClient;
  home: HomePublisher;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function boltLogger(logger: Logger): BoltLogger {
  const log = logger.child({ component: 'bolt' });
  let level = LogLevel.WARN;
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg) => log.debug(text(msg)),
    info: (...msg) => log.info(text(msg)),
    warn: (...msg) => log.warn(text(msg)),
    error: (...msg) => log.error(text(msg)),
    setLevel: (l) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}

/**
 * The bot token, checked once with auth.test (which also names the home team). A token Slack
 * refuses, or an API URL that cannot be reached, is a configuration error: one line.
 */
export async function checkSlackToken(slack: SlackOn): Promise<webApi.AuthTestResponse> {
  const client = new webApi.WebClient(slack.botToken, { ...webApiOptions(slack.apiUrl, 0), logLevel: webApi.LogLevel.ERROR });
  try {
    return await client.auth.test();
  } catch (error) {
    const e = error as { code?: string; data?: { error?: string }; message?: string };
    if (e.code === webApi.ErrorCode.PlatformError) throw new ConfigError('SLACK_BOT_TOKEN', `was refused by Slack (${e.data?.error ?? 'unknown error'})`);
    throw new ConfigError('SLACK_API_URL', `cannot be reached to check the bot token (${(e.message ?? String(error)).split('\n')[0]})`);
  }
}

export async function createSlackApp(options: SlackAppOptions): Promise<SlackApp> {
  const { slack, logger } = options;
  const clientOptions = webApiOptions(slack.apiUrl, options.retries ?? 1);
  const client = new webApi.WebClient(slack.botToken, { ...clientOptions, logLevel: webApi.LogLevel.ERROR });
  const auth = options.auth ?? (await checkSlackToken(slack));

  // Both modes dispatch through one receiver: HTTP from the front door, Socket Mode from its
  // connection (which first drops envelopes already delivered).
  const receiver = new DispatchReceiver(logger);
  const log = boltLogger(logger);
  const socket =
    slack.mode === 'socket' && slack.appToken
      ? createSocketModeConnection({ appToken: slack.appToken, apiUrl: slack.apiUrl, dispatch: receiver.dispatch, logger, boltLogger: log, seenBefore: options.seenBefore })
      : undefined;
  const app = new App({
    token: slack.botToken,
    botId: auth.bot_id,
    botUserId: auth.user_id,
    // Checked above with one auth.test of our own, which also tells us the home team.
    tokenVerificationEnabled: false,
    deferInitialization: true,
    logger: log,
    clientOptions,
    receiver,
  });
  await app.init();
  app.error(async (error) => {
    logger.error({ err: error }, 'slack listener error');
  });

  const directory = createUserDirectory({ client, logger });
  const allowedChannels = [...new Set([...(slack.alertChannel ? [slack.alertChannel] : []), ...slack.allowedChannels])];
  const gate = createGate({ sql: options.sql, allowedTeams: slack.allowedTeams, allowedChannels, directory, logger });
  gate.setHomeTeam(auth.team_id);
  const home = createHomePublisher({ client, status: options.services.status, alerts: options.services.alerts, gate, logger, throttleMs: options.homeThrottleMs });
  const deps: ListenerDeps = {
    control: options.services.control,
    status: options.services.status,
    onCall: options.services.onCall,
    gate,
    sql: options.sql,
    logger,
    outboxChanged: options.outboxChanged,
    homeChanged: () => home.changed(),
    publishHome: (userId, teamId) => home.publish(userId, teamId),
    deadlineMs: options.deadlineMs ?? 2500,
    quickAckMs: options.quickAckMs ?? 25,
  };
  registerCommands(app, deps);
  registerActions(app, deps);
  registerViews(app, deps);
  registerEvents(app, deps);

  return {
    mode: slack.mode,
    dispatch: slack.mode === 'http' ? receiver.dispatch : undefined,
    client,
    home,
    async start() {
      if (socket) {
        try {
          await socket.start();
        } catch (error) {
          const e = error as { data?: { error?: string }; message?: string };
          throw new ConfigError('SLACK_APP_TOKEN', `could not open a Socket Mode connection (${e.data?.error ?? (e.message ?? String(error)).split('\n')[0]})`);
        }
      }
      home.start();
    },
    async stop() {
      home.stop();
      await socket?.stop();
    },
  };
}
