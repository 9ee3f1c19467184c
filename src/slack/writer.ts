import { webApi } from '@slack/bolt';
import type { Logger } from '../lib/logger.js';
import type { Block } from './blocks/common.js';

/**
 * Where the notifier's messages go: the Slack Web API, or (Slack off) the log. Failures are
 * classified here so the notifier can decide: wait (429 with Retry-After), retry with backoff
 * (5xx, network), or give up (a platform error such as channel_not_found).
 */
export interface Message {
  channel: string;
  text: string;
  blocks?: Block[];
  threadTs?: string;
  /** A thread reply also shown in the channel (reply_broadcast). */
  broadcast?: boolean;
}

export interface SlackWriter {
  post(message: Message): Promise<{ channel: string; ts: string }>;
  update(message: Message & { ts: string }): Promise<void>;
}

export type WriteFailure =
  | { kind: 'rate_limited'; retryAfterSeconds: number; detail: string }
  | { kind: 'transient'; detail: string }
  | { kind: 'permanent'; detail: string };

const TRANSIENT_PLATFORM_ERRORS = new Set(['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

export function classifyWriteError(error: unknown): WriteFailure {
  const e = error as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string }; message?: string };
  switch (e?.code) {
    case webApi.ErrorCode.RateLimitedError:
      return { kind: 'rate_limited', retryAfterSeconds: Math.max(1, Number(e.retryAfter) || 1), detail: 'HTTP 429' };
    case webApi.ErrorCode.HTTPError:
      return (e.statusCode ?? 500) >= 500 || e.statusCode === 408 ? { kind: 'transient', detail: `HTTP ${e.statusCode}` } : { kind: 'permanent', detail: `HTTP ${e.statusCode}` };
    case webApi.ErrorCode.RequestError:
      return { kind: 'transient', detail: `request failed: ${e.message ?? ''}`.slice(0, 200) };
    case webApi.ErrorCode.PlatformError: {
      const code = e.data?.error ?? 'unknown_error';
      return TRANSIENT_PLATFORM_ERRORS.has(code) ? { kind: 'transient', detail: code } : { kind: 'permanent', detail: code };
    }
    default:
      return { kind: 'transient', detail: (e?.message ?? String(error)).slice(0, 200) };
  }
}

export function webApiOptions(apiUrl: string, retries: number) {
  return { slackApiUrl: apiUrl, retryConfig: { retries }, rejectRateLimitedCalls: true, timeout: 10_000 };
}

export function createWebWriter(client: webApi.WebClient): SlackWriter {
  return {
    async post(m) {
      const base = { channel: m.channel, text: m.text, ...(m.blocks ? { blocks: m.blocks } : {}), unfurl_links: false, unfurl_media: false };
      const result = await client.chat.postMessage(m.threadTs ? { ...base, thread_ts: m.threadTs, reply_broadcast: m.broadcast === true } : base);
      return { channel: String(result.channel ?? m.channel), ts: String(result.ts) };
    },
    async update(m) {
      await client.chat.update({ channel: m.channel, ts: m.ts, text: m.text, blocks: m.blocks ?? [] });
    },
  };
}

/** Slack off: each message is written to the log, and counts as delivered. */
export function createLogWriter(logger: Logger): SlackWriter {
  const log = logger.child({ component: 'slack-off' });
  let n = 0;
  return {
    async post(m) {
      const ts = `log.${Date.now()}.${++n}`;
      log.info({ slack: 'post', channel: m.channel, threadTs: m.threadTs, ...(m.broadcast ? { broadcast: true } : {}), text: m.text, ts }, 'slack message (Slack is off)');
      return { channel: m.channel, ts };
    },
    async update(m) {
      log.info({ slack: 'update', channel: m.channel, ts: m.ts, text: m.text }, 'slack message edit (Slack is off)');
    },
  };
}
