import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake PagerDuty Events API v2 (`POST /v2/enqueue`) on localhost, speaking its documented
 * format: 202 `{"status":"success","message":"Event processed","dedup_key":…}`; a body PagerDuty
 * would refuse gets 400 `{"status":"invalid event","message":"Event object is invalid","errors":[…]}`
 * (no routing_key or one not 32 characters, no or an unknown event_action, no dedup_key on an
 * acknowledge or resolve, a trigger without payload.summary, payload.source or a known
 * payload.severity, a summary over 1024 characters, a link without href). It can be told to
 * answer 429 (with or without Retry-After) or 5xx the next N times, and records what it accepted.
 */
export const ROUTING_KEY = 'R0123456789abcdef0123456789abcde';

export interface AcceptedEvent {
  event_action: string;
  dedup_key: string;
  body: Record<string, unknown>;
  at: number;
}

type Failure = { status: 429; retryAfter?: string } | { status: 500 | 502 | 503 };

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];

/** What PagerDuty would say is wrong with this event (empty when it is valid). */
export function pagerDutyErrors(body: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const key = body.routing_key;
  if (typeof key !== 'string' || key === '') errors.push("'routing_key' is missing or blank");
  else if (key.length !== 32) errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  const action = body.event_action;
  if (typeof action !== 'string' || action === '') errors.push("'event_action' is missing or blank");
  else if (!ACTIONS.includes(action)) errors.push("'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')");
  const dedup = body.dedup_key;
  if (dedup !== undefined && (typeof dedup !== 'string' || dedup.length > 255)) errors.push("'dedup_key' must be a string of at most 255 characters");
  if ((action === 'acknowledge' || action === 'resolve') && (typeof dedup !== 'string' || dedup === '')) errors.push("'dedup_key' is missing or blank");
  if (action === 'trigger') {
    const payload = body.payload as Record<string, unknown> | undefined;
    if (!payload || typeof payload !== 'object') errors.push("'payload' is missing or blank");
    else {
      if (typeof payload.summary !== 'string' || payload.summary === '') errors.push("'payload.summary' is missing or blank");
      else if (payload.summary.length > 1024) errors.push("'payload.summary' must be at most 1024 characters");
      if (typeof payload.source !== 'string' || payload.source === '') errors.push("'payload.source' is missing or blank");
      if (typeof payload.severity !== 'string' || payload.severity === '') errors.push("'payload.severity' is missing or blank");
      else if (!SEVERITIES.includes(payload.severity)) errors.push("'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')");
      if (payload.timestamp !== undefined && Number.isNaN(Date.parse(String(payload.timestamp)))) errors.push("'payload.timestamp' is not a valid ISO 8601 timestamp");
    }
    const links = body.links;
    if (links !== undefined && (!Array.isArray(links) || links.some((l: { href?: unknown }) => typeof l?.href !== 'string'))) errors.push("'links' must be a list of objects with an 'href'");
  }
  return errors;
}

export async function startFakePagerDuty() {
  const accepted: AcceptedEvent[] = [];
  const requests: { status: number; body: string; at: number }[] = [];
  const failures: Failure[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const answer = (status: number, body: Record<string, unknown> | undefined, headers: Record<string, string> = {}) => {
        requests.push({ status, body: raw, at: Date.now() });
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(body ? JSON.stringify(body) : '');
      };
      if (req.method !== 'POST' || req.url !== '/v2/enqueue') return answer(404, { status: 'not found' });
      const failure = failures.shift();
      if (failure?.status === 429) return answer(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly.  Please retry later.' }, failure.retryAfter ? { 'retry-after': failure.retryAfter } : {});
      if (failure) return answer(failure.status, undefined);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return answer(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Malformed JSON'] });
      }
      const errors = pagerDutyErrors(body);
      if (errors.length) return answer(400, { status: 'invalid event', message: 'Event object is invalid', errors });
      const dedupKey = typeof body.dedup_key === 'string' ? body.dedup_key : `generated-${accepted.length + 1}`;
      accepted.push({ event_action: body.event_action as string, dedup_key: dedupKey, body, at: Date.now() });
      return answer(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v2/enqueue`,
    accepted,
    requests,
    /** The next requests get these answers, in order, whatever they carry. */
    failNext(...answers: Failure[]) {
      failures.push(...answers);
    },
    /** What PagerDuty accepted for one dedup key, as `action` strings in arrival order. */
    actionsFor: (dedupKey: string) => accepted.filter((e) => e.dedup_key === dedupKey).map((e) => e.event_action),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type FakePagerDuty = Awaited<ReturnType<typeof startFakePagerDuty>>;
