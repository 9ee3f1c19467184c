import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_SLACK_BODY_BYTES } from '../../../src/slack/front-door.js';
import { slackSignature } from '../../../src/slack/signature.js';
import { postChunked, rawPost, startFrontDoor } from '../../support/front-door.js';
import { commandBody, FORM, homeOpened, interactivityBody, postSlack, SECRET, signedHeaders } from '../../support/slack.js';

/**
 * The front door against the bad-input catalogue's transport cases (reference/bad-inputs.md §4.1),
 * with its clock fixed so that "301 s old" and "299 s later" are exact. Each refusal is checked to
 * dispatch nothing; each case has a control that is accepted, so a refusal is not an accident.
 */
let clock = 1_767_225_600;
let door: Awaited<ReturnType<typeof startFrontDoor>>;
/** Held open by the S12 test: the first run of an event that has not finished. */
let release: (() => void) | undefined;

beforeAll(async () => {
  door = await startFrontDoor({
    nowSeconds: () => clock,
    dispatch: async (d) => {
      if (d.body.event_id === 'Ev0SLOW0001') await new Promise<void>((resolve) => (release = resolve));
      return { acked: true, response: { text: 'ok' } };
    },
  });
});
afterAll(async () => {
  await door.close();
});
beforeEach(() => {
  door.dispatched.length = 0;
});

const body = commandBody('cancel dep_0000000001');
/** Slack's headers for `b`, signed at `at` (the front door's clock by default). */
const signed = (b: string, contentType = FORM, at = clock, secret = SECRET) => signedHeaders(b, contentType, { now: at * 1000, secret });
const send = (b: string, headers: Record<string, string>) => postSlack(door.base, b, headers);

describe('S1: a request without its signature or timestamp header', () => {
  it.each([
    ['no X-Slack-Signature', () => ({ 'content-type': FORM, 'x-slack-request-timestamp': String(clock) })],
    ['no X-Slack-Request-Timestamp', () => ({ 'content-type': FORM, 'x-slack-signature': signed(body)['x-slack-signature'] })],
    ['neither', () => ({ 'content-type': FORM })],
  ])('S1: %s is 401 and never dispatched', async (name, headers) => {
    expect((await send(body, headers())).status).toBe(401);
    expect(door.dispatched).toHaveLength(0);
    const control = commandBody(`status ${name}`);
    expect((await send(control, signed(control))).status).toBe(200);
    expect(door.dispatched).toHaveLength(1);
  });
});

describe('S2: a signing header sent twice', () => {
  it('S2: a repeated X-Slack-Signature or X-Slack-Request-Timestamp (node joins them) is 401, though each copy is valid', async () => {
    const b = commandBody('status twice');
    const h = signed(b);
    const lines = (sigs: number, stamps: number) => [
      `Content-Type: ${FORM}`,
      ...Array.from({ length: stamps }, () => `X-Slack-Request-Timestamp: ${h['x-slack-request-timestamp']}`),
      ...Array.from({ length: sigs }, () => `X-Slack-Signature: ${h['x-slack-signature']}`),
    ];
    expect(await rawPost(door.base, lines(2, 1), b)).toBe(401);
    expect(await rawPost(door.base, lines(1, 2), b)).toBe(401);
    expect(door.dispatched).toHaveLength(0);
    // The same request written by hand with each header once is accepted.
    expect(await rawPost(door.base, lines(1, 1), b)).toBe(200);
    expect(door.dispatched).toHaveLength(1);
  });
});

describe('S3: a timestamp that is not a whole number of seconds', () => {
  // Each is signed over its own odd timestamp: only the timestamp check can refuse it.
  it.each(['abc', '1.5e9', '-1', `-${clock}`, '0', '', `${clock}.0`, ` ${clock}`])('S3: timestamp %j is 401 and never dispatched', async (timestamp) => {
    const headers = { 'content-type': FORM, 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(SECRET, timestamp, body) };
    expect((await send(body, headers)).status).toBe(401);
    expect(door.dispatched).toHaveLength(0);
  });
});

describe('S4: a timestamp more than 300 s from now', () => {
  it('S4: 301 s in the past or 301 s in the future is 401 and never dispatched; 300 s either way is accepted', async () => {
    expect((await send(body, signed(body, FORM, clock - 301))).status).toBe(401);
    expect((await send(body, signed(body, FORM, clock + 301))).status).toBe(401);
    expect(door.dispatched).toHaveLength(0);
    expect((await send(body, signed(body, FORM, clock - 300))).status).toBe(200);
    expect((await send(body, signed(body, FORM, clock + 300))).status).toBe(200);
    expect(door.dispatched).toHaveLength(2);
  });
});

describe('S5: a malformed or wrong signature', () => {
  const right = () => signed(body)['x-slack-signature'];
  it.each([
    ['v1= with the right digest', () => right().replace('v0=', 'v1=')],
    ['v0= alone', () => 'v0='],
    ['v0= with the right digest in upper-case hex', () => `v0=${right().slice(3).toUpperCase()}`],
    ['V0= with the right digest', () => right().replace('v0=', 'V0=')],
    ['v0= with 64 hex digits of another secret', () => signed(body, FORM, clock, 'another-secret-0123456789abcdef')['x-slack-signature']],
    ['the right digest truncated', () => right().slice(0, -2)],
  ])('S5: %s is 401 and never dispatched', async (_name, signature) => {
    expect((await send(body, { ...signed(body), 'x-slack-signature': signature() })).status).toBe(401);
    expect(door.dispatched).toHaveLength(0);
  });
});

describe('S8: a content type that does not match the body', () => {
  const event = homeOpened('U0ALICE001');
  it('S8: JSON declared for form data, form declared for JSON, multipart, text or none: refused with 400, never dispatched', async () => {
    expect((await send(body, signed(body, 'application/json'))).status).toBe(400);
    expect((await send(event, signed(event, FORM))).status).toBe(400);
    const click = interactivityBody({ type: 'block_actions', actions: [{ action_id: 'cancel_deployment', value: 'v1:dep_0000000001' }] });
    expect((await send(click, signed(click, 'application/json'))).status).toBe(400);
    expect((await send(body, signed(body, 'multipart/form-data; boundary=x'))).status).toBe(400);
    expect((await send(body, signed(body, 'text/plain'))).status).toBe(400);
    const h = signed(body);
    expect(await rawPost(door.base, [`X-Slack-Request-Timestamp: ${h['x-slack-request-timestamp']}`, `X-Slack-Signature: ${h['x-slack-signature']}`], body)).toBe(400);
    expect(door.dispatched).toHaveLength(0);
  });

  it('S8: charset parameters and upper-case media types are understood; the signature still covers the exact bytes', async () => {
    const b1 = commandBody('status charset');
    expect((await send(b1, signed(b1, `${FORM}; charset=utf-8`))).status).toBe(200);
    const b2 = commandBody('status upper');
    expect((await send(b2, signed(b2, 'Application/X-WWW-Form-Urlencoded;Charset=UTF-8'))).status).toBe(200);
    expect((await send(event, signed(event, 'application/json; charset=utf-8'))).status).toBe(200);
    expect(door.dispatched.map((d) => d.body.text ?? d.body.type)).toEqual(['status charset', 'status upper', 'event_callback']);
    // A charset the body is not in changes nothing we read: still the exact bytes, still JSON or refused.
    const b3 = commandBody('status latin');
    expect((await send(b3, signed(b3, `${FORM}; charset=iso-8859-1`))).status).toBe(200);
    const other = homeOpened('U0BOB00001');
    expect((await send(other, signed(other, 'application/json; charset=utf-16'))).status).toBe(200);
    expect(door.dispatched).toHaveLength(5);
  });
});

describe('S9: a signed payload that is not an object, or 10 MB', () => {
  it('S9: payload= with invalid JSON, null, an array, a number, an object without a type, or a JSON array body: 400, never dispatched', async () => {
    for (const b of ['payload=%7Bnot-json', 'payload=null', 'payload=%5B1%5D', 'payload=42', 'payload=%7B%7D', 'payload=']) {
      expect((await send(b, signed(b))).status, b).toBe(400);
    }
    for (const b of ['[1,2]', 'null', '{}']) expect((await send(b, signed(b, 'application/json'))).status, b).toBe(400);
    expect(door.dispatched).toHaveLength(0);
  });

  it('S9: a signed 10 MB payload is 413, whether declared or chunked, and is not read past the cap', async () => {
    const huge = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', filler: 'x'.repeat(10 * 1024 * 1024) }))}`;
    expect((await send(huge, signed(huge))).status).toBe(413);
    door.logLines.length = 0;
    const chunked = await postChunked(door.base, 10 * 1024 * 1024, signed(huge));
    expect(chunked.status).toBe(413);
    const refusal = door.logLines.find((l) => l.msg === 'slack request refused: body too large');
    expect(refusal!.bytesRead as number).toBeLessThanOrEqual(MAX_SLACK_BODY_BYTES + 64 * 1024);
    expect(door.dispatched).toHaveLength(0);
    expect((await fetch(`${door.base}/healthz`)).status).toBe(200);
  });
});

describe('S10: a 50 MB unauthenticated body', () => {
  it('S10: after the 413, what the client still sends is read and dropped for a moment, so it reads the answer instead of a reset; then the connection closes', async () => {
    const url = new URL(door.base);
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    await new Promise((resolve) => socket.once('connect', resolve));
    let answer = '';
    let closedAt: number | undefined;
    let failure: Error | undefined;
    socket.on('data', (data: Buffer) => (answer += data.toString('latin1')));
    socket.on('close', () => (closedAt ??= Date.now()));
    socket.on('error', (error) => (failure = error));
    const chunk = (size: number) => `${size.toString(16)}\r\n${'a'.repeat(size)}\r\n`;
    socket.write(`POST /slack/events HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: ${FORM}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    for (let i = 0; i < 20; i++) socket.write(chunk(64 * 1024)); // past the 1 MB cap
    const deadline = Date.now() + 5000;
    while (!answer.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    // The client goes on sending (it has not read the answer yet, as a client mid-upload would not):
    // for a moment, that is read and dropped, not answered with a reset.
    const answered = Date.now();
    while (Date.now() - answered < 500) {
      socket.write(chunk(64 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(failure, 'the connection was reset while the client was still sending').toBeUndefined();
    expect(closedAt).toBeUndefined();
    // Then it is closed, however long the client would go on.
    while (closedAt === undefined && Date.now() - answered < 5000) {
      if (!socket.destroyed) socket.write(chunk(64 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(closedAt, 'closed within the linger').toBeDefined();
    expect(closedAt! - answered).toBeLessThan(4000);
    socket.destroy();
    expect(door.dispatched).toHaveLength(0);
  });


  it('S10: 50 MB, chunked, is 413 after reading no more than the 1 MB cap; the door stays open for the next request', async () => {
    door.logLines.length = 0;
    const { status } = await postChunked(door.base, 50 * 1024 * 1024);
    expect(status).toBe(413);
    const refusal = door.logLines.find((l) => l.msg === 'slack request refused: body too large');
    expect(refusal!.bytesRead as number).toBeLessThanOrEqual(MAX_SLACK_BODY_BYTES + 64 * 1024);
    // Declared up front: refused before reading any of it.
    const declared = await fetch(`${door.base}/slack/events`, { method: 'POST', headers: { 'content-type': FORM }, body: Buffer.alloc(50 * 1024 * 1024, 'a') }).catch(() => undefined);
    if (declared) expect(declared.status).toBe(413);
    expect(door.dispatched).toHaveLength(0);
    expect((await send(body, signed(body))).status).toBe(200);
  });
});

describe('S11: a valid request replayed', () => {
  it('S11: replayed 1 s and 299 s later it is answered 200 and not dispatched again; 301 s later it is stale', async () => {
    const start = clock;
    const b = commandBody('status replay');
    const headers = signed(b);
    try {
      expect((await send(b, headers)).status).toBe(200);
      clock = start + 1;
      expect((await send(b, headers)).status).toBe(200);
      clock = start + 299;
      expect((await send(b, headers)).status).toBe(200);
      expect(door.dispatched).toHaveLength(1);
      clock = start + 301;
      expect((await send(b, headers)).status).toBe(401);
      expect(door.dispatched).toHaveLength(1);
    } finally {
      clock = start;
    }
  });

  it('S11: a request signed ahead of our clock is remembered for as long as its signature is accepted', async () => {
    const start = clock;
    const b = commandBody('status ahead');
    // Signed 200 s ahead (a fast clock at the sender): valid until our clock passes start + 500.
    const headers = signed(b, FORM, start + 200);
    try {
      expect((await send(b, headers)).status).toBe(200);
      clock = start + 400;
      expect((await send(b, headers)).status).toBe(200);
      expect(door.dispatched).toHaveLength(1);
    } finally {
      clock = start;
    }
  });
});

describe('S12: an Events API retry while the first delivery is still running', () => {
  it('S12: the retry (X-Slack-Retry-Num 1, http_timeout) is answered 200 at once and not dispatched; the first one finishes', async () => {
    const event = (ts: number) => JSON.stringify({ type: 'event_callback', event_id: 'Ev0SLOW0001', event: { type: 'app_home_opened', user: 'U1', tab: 'home', event_ts: String(ts) } });
    const first = send(event(1), signed(event(1), 'application/json'));
    await expect.poll(() => door.dispatched.length).toBe(1);
    // Slack's retry is signed afresh, a second later; same event id.
    const retry = await send(event(1), { ...signed(event(1), 'application/json', clock + 1), 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' });
    expect(retry.status).toBe(200);
    expect(door.dispatched).toHaveLength(1);
    release!();
    expect((await first).status).toBe(200);
    expect(door.dispatched).toHaveLength(1);
  });
});
