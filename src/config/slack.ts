import { ConfigError } from '../lib/config-error.js';

/**
 * The Slack section: off when no Slack variable is set; Socket Mode when SLACK_APP_TOKEN is set,
 * HTTP mode (signed requests to /slack/events) otherwise.
 */
export type SlackConfig =
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

export function slackConfig(e: {
  SLACK_BOT_TOKEN?: string | undefined;
  SLACK_SIGNING_SECRET?: string | undefined;
  SLACK_APP_TOKEN?: string | undefined;
  SLACK_API_URL: string;
  SLACK_ALERT_CHANNEL?: string | undefined;
  SLACK_ALLOWED_TEAMS?: string | undefined;
  SLACK_ALLOWED_CHANNELS?: string | undefined;
}): SlackConfig {
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
