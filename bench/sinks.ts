/**
 * The SMTP servers benchmarks send to, each in a process of its own (as a receiving server is in
 * production, so the sender does not share its event loop with it): our sink (npm smtp-server,
 * the one tests use), and Postfix's `smtp-sink`, a lean C server, with `smtp-source` (Postfix's
 * load generator) as the protocol's ceiling on this machine.
 */
import { execFile, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export interface SinkProcess {
  name: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

export const SMTP_SINK = '/usr/sbin/smtp-sink';
export const SMTP_SOURCE = '/usr/sbin/smtp-source';

/** Our sink; `delayMs`: its reply delay at RCPT and at the end of DATA (like a remote server's round trips). */
export async function startSinkProcess(delayMs: number): Promise<SinkProcess> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'sink-process.js'), String(delayMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port: number = await new Promise((resolve, reject) => {
    child.stdout.once('data', (data) => resolve(Number(String(data).trim())));
    child.once('exit', (code) => reject(new Error(`the sink process exited (${code})`)));
  });
  return {
    name: 'smtp-server (ours)',
    port,
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.stdin.end();
    }),
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listening(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`smtp-sink did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Postfix's smtp-sink on a free port (backlog 256); stopped by close(). */
export async function startPostfixSink(): Promise<SinkProcess> {
  const port = await freePort();
  // As root, smtp-sink insists on dropping to a user of its own.
  const asUser = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child = spawn(SMTP_SINK, [...asUser, `127.0.0.1:${port}`, '256'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await listening(port);
  return {
    name: 'Postfix smtp-sink',
    port,
    url: `smtp://127.0.0.1:${port}`,
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `smtp-source -d -s CONNS -m N -l BYTES`: N messages over CONNS connections kept open; seconds taken. */
export async function smtpSourceSeconds(port: number, connections: number, messages: number, payloadBytes: number): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    execFile(SMTP_SOURCE, ['-d', '-s', String(connections), '-m', String(messages), '-l', String(payloadBytes), `127.0.0.1:${port}`], (error) => (error ? reject(error) : resolve()));
  });
  return (performance.now() - started) / 1000;
}
