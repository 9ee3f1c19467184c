import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from '../lib/logger.js';
import { createSharedReplayGuard, type SharedReplayGuard } from './replay-guard.js';
import { MAX_SKEW_SECONDS, verifySlackSignature } from './signature.js';

/**
 * `POST /slack/events`: the only way into the Slack app in HTTP mode. The body is read as raw
 * bytes with a hard cap (1 MB, counted while reading: a larger body is refused with 413 and no
 * more of it is kept); the signature is checked over those exact bytes; only
 * then is the body parsed and handed to Bolt. `ssl_check` requests are answered and never
 * dispatched. Nothing unsigned reaches a listener.
 */
export const MAX_SLACK_BODY_BYTES = 1024 * 1024;
const EVENT_RETRY_WINDOW_MS = 10 * 60_000;

export interface SlackDelivery {
  body: Record<string, unknown>;
  retryNum?: number;
  retryReason?: string;
}

/** What the listener acknowledged with, if it did within the time Slack waits. */
export type AckResult = { acked: true; response: unknown } | { acked: false };

export type SlackDispatch = (delivery: SlackDelivery) => Promise<AckResult>;

export interface FrontDoorOptions {
  signingSecret: string;
  dispatch: SlackDispatch;
  logger: Logger;
  maxBodyBytes?: number;
  nowSeconds?: () => number;
  /** The replay memory every web process shares (see replay-guard.ts); absent: this process's alone. */
  seenBefore?: SharedReplayGuard;
}

class BodyTooLarge extends Error {
  readonly statusCode = 413;
  constructor(readonly bytesRead: number) {
    super('request body too large');
  }
}

function readCapped(request: FastifyRequest, max: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(new BodyTooLarge(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stream = request.raw;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        cleanup();
        reject(new BodyTooLarge(size));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/**
 * After refusing a body, what the client is still sending is read and dropped for a moment, then
 * the connection is closed (as web servers' lingering close does). Closing at once would answer
 * the client's next packets with a reset, which can reach it before our answer: it would see a
 * broken connection instead of the 413.
 */
const LINGER_MS = 2000;
function dropTheRest(request: FastifyRequest): void {
  const { raw } = request;
  const timer = setTimeout(() => raw.socket.destroy(), LINGER_MS).unref();
  raw.once('end', () => clearTimeout(timer));
  raw.socket.once('close', () => clearTimeout(timer));
  raw.resume();
}

const mediaType = (header: unknown) => (typeof header === 'string' ? header.split(';')[0]!.trim().toLowerCase() : '');

/**
 * What Slack sends, and nothing else reaches Bolt: an interaction (`payload=` holding a JSON
 * object with a `type`), a slash command (form fields with a `command`), or an Events API body
 * (a JSON object with a `type`). A body of another shape, or one whose content type does not match
 * it (JSON declared as a form, a form declared as JSON), is refused rather than guessed at.
 */
function parseBody(contentType: string, raw: Buffer): { ok: true; body: Record<string, unknown> } | { ok: false } {
  const text = raw.toString('utf8');
  const typed = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { type?: unknown }).type === 'string';
  const json = (source: string): unknown => {
    try {
      return JSON.parse(source);
    } catch {
      return undefined;
    }
  };
  if (contentType === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(text);
    if (form.has('payload')) {
      const payload = json(form.get('payload')!);
      return typed(payload) ? { ok: true, body: payload } : { ok: false };
    }
    const body: Record<string, string> = {};
    for (const [key, value] of form) body[key] = value;
    return typeof body.command === 'string' && body.command.startsWith('/') ? { ok: true, body } : { ok: false };
  }
  if (contentType === 'application/json') {
    const body = json(text);
    return typed(body) ? { ok: true, body } : { ok: false };
  }
  return { ok: false };
}

export function registerSlackRoute(server: FastifyInstance, options: FrontDoorOptions): void {
  const max = options.maxBodyBytes ?? MAX_SLACK_BODY_BYTES;
  const now = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const log = options.logger.child({ component: 'slack-front-door' });
  // A signed request seen again while its signature is still accepted (a replay), or an Events
  // API retry of an event we already have, is answered 200 and not dispatched again.
  const seenBefore = options.seenBefore ?? createSharedReplayGuard({ logger: options.logger });

  server.register(async (scope) => {
    // This scope reads the body itself (raw bytes, capped): no parser may touch it first.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

    scope.post('/slack/events', async (request, reply) => {
      let raw: Buffer;
      try {
        raw = await readCapped(request, max);
      } catch (error) {
        if (error instanceof BodyTooLarge) {
          log.warn({ bytesRead: error.bytesRead, limit: max }, 'slack request refused: body too large');
          dropTheRest(request);
          return reply.code(413).send({ error: 'body too large' });
        }
        // The body did not arrive within the server's request timeout (it answered 408 and closed
        // the connection), or the client went away: nothing to dispatch, and not our fault.
        if (request.raw.destroyed || (error as { code?: string }).code === 'ECONNRESET') {
          log.warn({ ip: request.ip, why: (error as Error).message }, 'slack request refused: the body did not arrive in time, or the client went away');
          return reply.code(408).send({ error: 'request timeout' });
        }
        throw error;
      }
      const contentType = mediaType(request.headers['content-type']);
      // Slack's SSL check carries no signature and asks for nothing: answer, never dispatch.
      if (contentType === 'application/x-www-form-urlencoded' && new URLSearchParams(raw.toString('utf8')).has('ssl_check')) {
        return reply.code(200).send('');
      }
      const verdict = verifySlackSignature({
        secret: options.signingSecret,
        signature: request.headers['x-slack-signature'],
        timestamp: request.headers['x-slack-request-timestamp'],
        rawBody: raw,
        nowSeconds: now(),
      });
      if (!verdict.ok) {
        log.warn({ why: verdict.why, ip: request.ip }, 'slack request refused: bad signature');
        return reply.code(401).send({ error: 'invalid signature' });
      }
      const parsed = parseBody(contentType, raw);
      if (!parsed.ok) return reply.code(400).send({ error: 'unreadable body' });
      const body = parsed.body;
      if (body.type === 'url_verification' && typeof body.challenge === 'string') return reply.send({ challenge: body.challenge });
      const eventId = body.type === 'event_callback' && typeof body.event_id === 'string' ? body.event_id : undefined;
      const nowMs = now() * 1000;
      // The signature is accepted until its timestamp is more than MAX_SKEW_SECONDS old: remember it that long.
      const signedUntilMs = (Number(request.headers['x-slack-request-timestamp']) + MAX_SKEW_SECONDS + 1) * 1000;
      // Slack retries an event for about 5 minutes, each retry freshly signed: remember its id longer.
      const eventUntilMs = Math.max(signedUntilMs, nowMs + EVENT_RETRY_WINDOW_MS);
      const replayed = await seenBefore(`sig:${String(request.headers['x-slack-signature'])}`, signedUntilMs, nowMs);
      if (replayed || (eventId && (await seenBefore(`event:${eventId}`, eventUntilMs, nowMs)))) {
        log.info({ eventId }, 'slack request seen before: not dispatched again');
        return reply.code(200).send('');
      }

      const retryHeader = request.headers['x-slack-retry-num'];
      const retryNum = typeof retryHeader === 'string' && /^\d{1,4}$/.test(retryHeader) ? Number(retryHeader) : undefined;
      const reason = request.headers['x-slack-retry-reason'];
      const result = await options.dispatch({ body, retryNum, retryReason: typeof reason === 'string' ? reason : undefined });
      if (!result.acked) return reply.code(404).send('');
      const response = result.response;
      if (response === undefined || response === null || response === '') return reply.code(200).send('');
      if (typeof response === 'string') return reply.code(200).type('text/plain').send(response);
      return reply.code(200).type('application/json').send(JSON.stringify(response));
    });
  });
}
