import { SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../lib/logger.js';
import type { SlackDispatch } from './front-door.js';
import { createSharedReplayGuard, type SharedReplayGuard } from './replay-guard.js';

/**
 * Socket Mode: Slack delivers each request as an envelope over a WebSocket and waits for the
 * envelope's acknowledgement. Slack redelivers an envelope it does not believe was acknowledged
 * (a reconnect in between, a slow ack), so the same `envelope_id` can arrive twice, on the same
 * or a new connection: it is acknowledged again and not acted on again. An Events API retry comes
 * in a new envelope with the same `event_id`: the same. Everything else goes through the same
 * `dispatch` as the HTTP front door (its 3 s acknowledgement deadline included).
 */
const REMEMBER_MS = 10 * 60_000;

export interface SocketModeConnection {
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface Envelope {
  ack(response?: unknown): Promise<void>;
  envelope_id?: unknown;
  type?: unknown;
  body?: unknown;
  retry_num?: number;
  retry_reason?: string;
}

export function createSocketModeConnection(options: {
  appToken: string;
  apiUrl: string;
  dispatch: SlackDispatch;
  logger: Logger;
  boltLogger: BoltLogger;
  /** The replay memory every process shares; absent: this process's alone. */
  seenBefore?: SharedReplayGuard;
}): SocketModeConnection {
  const log = options.logger.child({ component: 'slack-socket-mode' });
  // Bolt's receiver only for its Socket Mode client (the one Bolt ships with): it is never given
  // the app, and its own listener is removed; envelopes are ours to deduplicate first.
  const client = new SocketModeReceiver({ appToken: options.appToken, logger: options.boltLogger, installerOptions: { clientOptions: { slackApiUrl: options.apiUrl } } }).client;
  client.removeAllListeners('slack_event');
  const seenBefore = options.seenBefore ?? createSharedReplayGuard({ logger: options.logger });

  const onEnvelope = async (envelope: Envelope) => {
    const body = envelope.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
    const record = body as Record<string, unknown>;
    const now = Date.now();
    const envelopeId = typeof envelope.envelope_id === 'string' ? envelope.envelope_id : undefined;
    const eventId = envelope.type === 'events_api' && typeof record.event_id === 'string' ? record.event_id : undefined;
    const again = (envelopeId !== undefined && (await seenBefore(`envelope:${envelopeId}`, now + REMEMBER_MS, now))) || (eventId !== undefined && (await seenBefore(`event:${eventId}`, now + REMEMBER_MS, now)));
    if (again) {
      log.info({ envelopeId, eventId }, 'slack envelope seen before: acknowledged, not dispatched again');
      await envelope.ack();
      return;
    }
    const result = await options.dispatch({ body: record, retryNum: envelope.retry_num, retryReason: envelope.retry_reason });
    // Not acknowledged in time: say nothing, as the HTTP front door answers 404; Slack shows the failure.
    if (!result.acked) return;
    const response = result.response;
    await envelope.ack(response === undefined || response === null || response === '' ? undefined : response);
  };

  client.on('slack_event', (envelope: Envelope) => {
    onEnvelope(envelope).catch((error: unknown) => log.warn({ err: error, type: envelope.type }, 'could not handle a Socket Mode envelope'));
  });

  return {
    async start() {
      await client.start();
    },
    async stop() {
      await client.disconnect();
    },
  };
}
