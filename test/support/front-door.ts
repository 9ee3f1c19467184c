import http from 'node:http';
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createHttpServer } from '../../src/http/server.js';
import { registerSlackRoute, type AckResult, type SlackDelivery } from '../../src/slack/front-door.js';
import { SECRET } from './slack.js';

/**
 * The Slack front door alone on a local port: every dispatched request recorded, every log line
 * kept (the body cap's refusal says how much it read). `nowSeconds` fixes its clock; `dispatch`
 * replaces the default listener (which acknowledges with `{ text: 'ok' }` at once).
 */
export async function startFrontDoor(options: { nowSeconds?: () => number; dispatch?: (d: SlackDelivery) => Promise<AckResult> } = {}) {
  const dispatched: SlackDelivery[] = [];
  const logLines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _e, done) => void (logLines.push(JSON.parse(String(chunk))), done()) }));
  const server = createHttpServer({
    logger,
    routes: [
      (s) =>
        registerSlackRoute(s, {
          signingSecret: SECRET,
          logger,
          nowSeconds: options.nowSeconds,
          dispatch: async (d) => {
            dispatched.push(d);
            return options.dispatch ? options.dispatch(d) : { acked: true, response: { text: 'ok' } };
          },
        }),
    ],
  });
  const base = await server.listen({ port: 0, host: '127.0.0.1' });
  return { base, dispatched, logLines, close: () => server.close() };
}

/**
 * POSTs `totalBytes` of filler to /slack/events with chunked encoding (no Content-Length to refuse
 * up front), and stops writing as soon as the answer arrives. Resolves with the status.
 */
export function postChunked(base: string, totalBytes: number, headers: Record<string, string> = {}): Promise<{ status: number; written: number }> {
  const url = new URL(`${base}/slack/events`);
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let written = 0;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked', ...headers } },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode!, written });
        // The server closes the connection after its 413: what we still had to send goes nowhere.
        req.destroy();
      },
    );
    req.on('error', (error) => (req.destroyed && written > 0 ? undefined : reject(error)));
    const pump = () => {
      while (written < totalBytes && !req.destroyed) {
        written += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

/**
 * One HTTP request written by hand, so a header can be sent twice (fetch and http.request merge
 * or refuse that). Resolves with the status code of the answer.
 */
export function rawPost(base: string, headerLines: string[], body: string): Promise<number> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
      const head = ['POST /slack/events HTTP/1.1', `Host: ${url.host}`, 'Connection: close', `Content-Length: ${Buffer.byteLength(body)}`, ...headerLines];
      socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
    });
    let answer = '';
    socket.on('data', (data: Buffer) => (answer += data.toString('latin1')));
    socket.on('end', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (status) resolve(Number(status[1]));
      else reject(new Error(`no HTTP answer: ${answer.slice(0, 200)}`));
    });
    socket.on('error', reject);
  });
}
