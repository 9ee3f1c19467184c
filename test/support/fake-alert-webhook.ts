import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A receiver for the alert webhook on localhost: records each request (headers and the exact raw
 * body, for verifying the signature as a receiver would) and answers 200, or what it was told to
 * answer the next N times.
 */
export interface ReceivedHook {
  headers: http.IncomingHttpHeaders;
  raw: string;
  status: number;
}

export async function startFakeAlertWebhook() {
  const received: ReceivedHook[] = [];
  const answers: number[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const status = answers.shift() ?? 200;
      received.push({ headers: req.headers, raw, status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : `status ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/campaign-guard`,
    received,
    /** Accepted requests (2xx), as parsed bodies. */
    delivered: () => received.filter((r) => r.status < 300).map((r) => JSON.parse(r.raw) as Record<string, unknown>),
    answerNext(...statuses: number[]) {
      answers.push(...statuses);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
