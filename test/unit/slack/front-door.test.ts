import http from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../../src/http/server.js';
import { registerSlackRoute, type SlackDelivery } from '../../../src/slack/front-door.js';
import { slackSignature, verifySlackSignature } from '../../../src/slack/signature.js';
import { commandBody, FORM, postSlack, SECRET, sendSigned, signedHeaders, interactivityBody } from '../../support/slack.js';

const dispatched: SlackDelivery[] = [];
const logLines: Record<string, unknown>[] = [];
const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _e, done) => void (logLines.push(JSON.parse(String(chunk))), done()) }));
let server: ReturnType<typeof createHttpServer>;
let base: string;

beforeAll(async () => {
  server = createHttpServer({
    logger,
    routes: [(s) => registerSlackRoute(s, { signingSecret: SECRET, logger, dispatch: async (d) => (dispatched.push(d), { acked: true, response: { text: 'ok' } }) })],
  });
  base = await server.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  dispatched.length = 0;
});

describe('the signing check', () => {
  it("matches Slack's published test vector", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const expected = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
    expect(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, body)).toBe(expected);
    const verdict = (signature: string, now = 1531420618) =>
      verifySlackSignature({ secret: '8f742231b10e8888abcd99yyyzzz85a5', signature, timestamp: '1531420618', rawBody: Buffer.from(body), nowSeconds: now }).ok;
    expect(verdict(expected)).toBe(true);
    expect(verdict(expected, 1531420618 + 301)).toBe(false);
    expect(verdict(expected, 1531420618 - 301)).toBe(false);
    expect(verdict(expected.toUpperCase().replace('V0=', 'v0='))).toBe(false);
    expect(verdict(expected.replace('v0=', 'v1='))).toBe(false);
    expect(verdict('v0=')).toBe(false);
  });
});

describe('POST /slack/events', () => {
  const body = commandBody('status');

  it('dispatches a signed request and answers with the ack', async () => {
    const res = await sendSigned(base, body);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ text: 'ok' });
    expect(dispatched).toHaveLength(1);
    expect(dispatched[0]!.body).toMatchObject({ command: '/campaign', text: 'status', user_id: 'U0ALICE001' });
  });

  // The refusals of the catalogue's transport cases, one case at a time: front-door-catalogue.test.ts.

  it('S11: a request replayed at once is answered 200 and not dispatched again', async () => {
    const once = commandBody('status replayed');
    const headers = signedHeaders(once);
    expect((await postSlack(base, once, headers)).status).toBe(200);
    expect((await postSlack(base, once, headers)).status).toBe(200);
    expect(dispatched).toHaveLength(1);
  });

  it('an Events API retry of an event already handled is answered 200 and not dispatched again', async () => {
    const event = (ts: number) => JSON.stringify({ type: 'event_callback', event_id: 'Ev0RETRY01', event: { type: 'app_home_opened', user: 'U1', tab: 'home', event_ts: String(ts) } });
    expect((await sendSigned(base, event(1), 'application/json')).status).toBe(200);
    expect((await postSlack(base, event(2), { ...signedHeaders(event(2), 'application/json'), 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' })).status).toBe(200);
    expect(dispatched).toHaveLength(1);
  });

  it('S6: refuses a body altered after signing (one byte changed, a trailing newline, %2F for /) with 401', async () => {
    const headers = signedHeaders(body);
    expect((await postSlack(base, body.replace('text=status', 'text=statut'), headers)).status).toBe(401);
    expect((await postSlack(base, `${body}\n`, headers)).status).toBe(401);
    expect((await postSlack(base, body.replace('%2Fcampaign', '/campaign'), headers)).status).toBe(401);
    expect(dispatched).toHaveLength(0);
    // The bytes as signed are accepted: the refusals above were the alterations.
    expect((await postSlack(base, body, headers)).status).toBe(200);
  });

  it('S7: never dispatches ssl_check (=1, =true, =0) carrying a payload, signed or not', async () => {
    const smuggled = `ssl_check=1&${interactivityBody({ type: 'block_actions', actions: [{ action_id: 'cancel_deployment', value: 'v1:dep_0000000000' }] })}`;
    for (const b of [smuggled, smuggled.replace('ssl_check=1', 'ssl_check=0'), smuggled.replace('ssl_check=1', 'ssl_check=true')]) {
      expect((await postSlack(base, b, { 'content-type': FORM })).status).toBe(200);
      expect((await sendSigned(base, b)).status).toBe(200);
    }
    expect(dispatched).toHaveLength(0);
  });

  it('answers url_verification with the challenge, signed only', async () => {
    const challenge = JSON.stringify({ token: 't', challenge: 'abc123', type: 'url_verification' });
    expect((await sendSigned(base, challenge, 'application/json')).json).toEqual({ challenge: 'abc123' });
    expect((await postSlack(base, challenge, { 'content-type': 'application/json' })).status).toBe(401);
  });

  it('S9: refuses signed but unreadable payloads with 400 (invalid JSON, null, an array; a JSON array body)', async () => {
    for (const b of ['payload=%7Bnot-json', 'payload=null', 'payload=%5B1%5D']) expect((await sendSigned(base, b)).status).toBe(400);
    expect((await sendSigned(base, '[1,2]', 'application/json')).status).toBe(400);
    expect(dispatched).toHaveLength(0);
  });

  it('S10: refuses a 5 MB unauthenticated body before reading more than 1 MB, and stays healthy', async () => {
    logLines.length = 0;
    const url = new URL(`${base}/slack/events`);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let written = 0;
    const status = await new Promise<number>((resolve, reject) => {
      // Chunked: no Content-Length to refuse up front; the cap must hold while reading.
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': FORM, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      const pump = () => {
        while (written < 5 * 1024 * 1024) {
          written += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    const refusal = logLines.find((l) => l.msg === 'slack request refused: body too large');
    expect(refusal).toBeDefined();
    expect(refusal!.bytesRead as number).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024);
    expect(dispatched).toHaveLength(0);
    // With a Content-Length over the cap nothing is read at all.
    const big = await fetch(`${base}/slack/events`, { method: 'POST', headers: { 'content-type': FORM }, body: Buffer.alloc(5 * 1024 * 1024, 'a') }).catch(() => undefined);
    if (big) expect(big.status).toBe(413);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await sendSigned(base, body)).status).toBe(200);
  });
});
