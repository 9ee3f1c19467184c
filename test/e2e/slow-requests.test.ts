import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { commandBody, signedHeaders } from '../support/slack.js';
import { startSlackStack, type SlackStack } from './harness.js';

/**
 * O4 (issue 19, finding 9): a request whose body is trickled (a byte every 5 s, a slowloris) is cut
 * after HTTP_REQUEST_TIMEOUT_SECONDS, on the Slack route and on the webhooks, instead of holding
 * its connection open for as long as the client likes. Run with a 3 s timeout (30 s by default).
 */
let stack: SlackStack;
beforeAll(async () => {
  stack = await startSlackStack({ HTTP_REQUEST_TIMEOUT_SECONDS: '3', EVENTS_WEBHOOK_SECRET: 'e'.repeat(40) });
});
afterAll(async () => {
  await stack?.stop();
});

/** Sends the head and then one byte of the body every `everyMs`; resolves when the server answers or closes, with how long that took. */
function trickle(base: string, path: string, head: Record<string, string>, body: string, everyMs: number, giveUpMs: number) {
  const url = new URL(base);
  return new Promise<{ closedAfterMs: number | null; answer: string; bytesSent: number }>((resolve) => {
    const started = Date.now();
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
      const lines = [`POST ${path} HTTP/1.1`, `Host: ${url.host}`, `Content-Length: ${Buffer.byteLength(body)}`, ...Object.entries(head).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      const next = () => {
        if (sent >= body.length || socket.destroyed) return;
        socket.write(body[sent++]!);
        timer = setTimeout(next, everyMs);
      };
      next();
    });
    const finish = (closedAfterMs: number | null) => {
      clearTimeout(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closedAfterMs, answer, bytesSent: sent });
    };
    const giveUp = setTimeout(() => finish(null), giveUpMs);
    socket.on('data', (data: Buffer) => (answer += data.toString('latin1')));
    socket.on('close', () => finish(Date.now() - started));
    socket.on('error', () => undefined);
  });
}

describe('O4: a request body trickled one byte every 5 s', () => {
  it('O4: is cut after the request timeout on /slack/events and on /webhooks/events, and the server keeps answering', async () => {
    const slackBody = commandBody('status');
    const webhookBody = JSON.stringify({ events: [{ id: 'slow-1', type: 'delivery', deliveryTag: 'dep_0123456789.1' }] });
    const [slack, webhook] = await Promise.all([
      trickle(stack.base, '/slack/events', signedHeaders(slackBody), slackBody, 5000, 15_000),
      trickle(stack.base, '/webhooks/events', { 'Content-Type': 'application/json' }, webhookBody, 5000, 15_000),
    ]);
    for (const cut of [slack, webhook]) {
      // 3 s, checked once a second; well before the client would have finished (minutes).
      expect(cut.closedAfterMs).not.toBeNull();
      expect(cut.closedAfterMs!).toBeLessThan(8000);
      expect(cut.bytesSent).toBeLessThan(4);
    }
    expect(slack.answer).toMatch(/^HTTP\/1\.1 408/);
    expect((await fetch(`${stack.base}/healthz`)).status).toBe(200);
  }, 30_000);

  it('a whole request that arrives within the timeout is answered as usual', async () => {
    const body = commandBody('help');
    const res = await trickle(stack.base, '/slack/events', { ...signedHeaders(body), Connection: 'close' }, body, 0, 10_000);
    expect(res.answer).toMatch(/^HTTP\/1\.1 200/);
  });

  it('the timeout is 30 s unless HTTP_REQUEST_TIMEOUT_SECONDS says otherwise', () => {
    expect(loadConfig({}).http.requestTimeoutSeconds).toBe(30);
    expect(loadConfig({ HTTP_REQUEST_TIMEOUT_SECONDS: '5' }).http.requestTimeoutSeconds).toBe(5);
  });
});
