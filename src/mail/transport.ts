import { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { classifyFailure, describeRelayFault } from '../domain/smtp.js';
import { createMessageComposer } from './compose.js';
import type { AttemptResult, Transport } from '../services/ports.js';
import { parseSmtpUrl } from '../lib/smtp-url.js';

/**
 * Outgoing SMTP over a small pool of nodemailer SMTP connections of our own, one message per
 * connection at a time. Callers keep outstanding sends ≤ `connections`, so a message handed to
 * `send` is on the wire, never in a queue. We drive the connections ourselves (not nodemailer's
 * pool) to know whether a failure happened before DATA (nothing delivered: safe to retry) or after
 * (maybe delivered: `unknown`, never resent); nodemailer reports both as a closed connection, and
 * its pool would requeue such a message onto another connection.
 *
 * A failure to open a session (connect, TLS, greeting, EHLO, login) or a refused sender is the
 * relay's, not the recipient's (`relay`, with its cause in words). With credentials, a session
 * that is not encrypted never gets to the login: the password is never sent in clear.
 */
export interface SmtpTransportOptions {
  url: string;
  connections: number;
  timeouts?: { connectionMs?: number; greetingMs?: number; socketMs?: number };
  /** Messages per connection before it is renewed. */
  maxMessagesPerConnection?: number;
}

/**
 * SMTP_TIMEOUT_SECONDS as nodemailer's three timeouts: any silence longer than it gives the attempt
 * up (before DATA: retried; after: `unknown`). Connecting and the greeting get at most 30 s, since
 * a server that greets that slowly is not going to take mail.
 */
export function smtpTimeouts(seconds: number): NonNullable<SmtpTransportOptions['timeouts']> {
  const ms = seconds * 1000;
  return { connectionMs: Math.min(ms, 30_000), greetingMs: Math.min(ms, 30_000), socketMs: ms };
}

interface PooledConnection {
  connection: SMTPConnection;
  sent: number;
  broken: boolean;
  /** Settles the send in progress when the connection fails without calling back. */
  onLost?: (error: SmtpError) => void;
}

type SmtpError = Error & { code?: string; responseCode?: number; command?: string; response?: string };

const truncate = (text: string | undefined) => (text === undefined ? undefined : text.slice(0, 500));
const replyCode = (reply: string | undefined) => {
  const code = Number(reply?.slice(0, 3));
  return Number.isInteger(code) && code >= 200 ? code : undefined;
};
const addressOf = (from: string) => /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from;

/**
 * The body, whose end is held until the gate opens; a closed gate withdraws the message instead.
 * `ended()` tells whether the end was released: until then the server cannot have accepted it.
 */
function gatedBody(body: Buffer, gate: Promise<boolean>, withdraw: () => void): Readable & { ended(): boolean } {
  let pushed = false;
  let released = false;
  const stream = new Readable({
    read() {
      if (pushed) return;
      pushed = true;
      this.push(body);
      gate.then(
        (open) => {
          if (!open) return withdraw();
          released = true;
          this.push(null);
        },
        () => withdraw(),
      );
    },
  });
  return Object.assign(stream, { ended: () => released });
}

const relayResult = (failure: SmtpError, outcome: AttemptResult['outcome']): AttemptResult => ({
  outcome,
  code: failure.responseCode,
  reply: truncate(failure.response ?? failure.message),
  ...(outcome === 'relay' ? { cause: describeRelayFault(failure) } : {}),
});

export function createSmtpTransport(options: SmtpTransportOptions): Transport {
  const parsed = parseSmtpUrl(options.url);
  if (!parsed.ok) throw new Error(`SMTP_URL ${parsed.problem}`);
  const { connection: settings, auth } = parsed.settings;
  // Options named in the URL win over SMTP_TIMEOUT_SECONDS's.
  const connectionOptions: SMTPConnection.Options = {
    connectionTimeout: options.timeouts?.connectionMs ?? 10_000,
    greetingTimeout: options.timeouts?.greetingMs ?? 10_000,
    socketTimeout: options.timeouts?.socketMs ?? 60_000,
    ...settings,
  } as SMTPConnection.Options;
  const maxMessages = options.maxMessagesPerConnection ?? parsed.settings.maxMessagesPerConnection ?? 1000;
  const compose = createMessageComposer();
  const idle: PooledConnection[] = [];
  const open = new Set<PooledConnection>();
  let closed = false;

  const discard = (pooled: PooledConnection) => {
    pooled.broken = true;
    open.delete(pooled);
    try {
      pooled.connection.close();
    } catch {
      // already closed
    }
  };

  const connect = () =>
    new Promise<PooledConnection>((resolve, reject) => {
      const connection = new SMTPConnection(connectionOptions);
      const pooled: PooledConnection = { connection, sent: 0, broken: false };
      // Until connected, a failure (refused, 421 greeting, timeout) settles the connect itself.
      pooled.onLost = (error) => {
        pooled.onLost = undefined;
        discard(pooled);
        reject(error);
      };
      connection.on('error', (error: SmtpError) => {
        pooled.broken = true;
        pooled.onLost?.(error);
      });
      connection.on('end', () => {
        pooled.broken = true;
        open.delete(pooled);
        pooled.onLost?.(Object.assign(new Error('Connection closed'), { code: 'ECONNECTION' }));
      });
      const ready = () => {
        // Nagle would hold the end of every message for the server's delayed ACK (~40 ms each).
        (connection as unknown as { _socket?: { setNoDelay?: (on: boolean) => void } })._socket?.setNoDelay?.(true);
        pooled.onLost = undefined;
        open.add(pooled);
        resolve(pooled);
      };
      connection.connect((error) => {
        if (error) return pooled.onLost?.(error as SmtpError);
        if (!auth) return ready();
        // requireTLS makes nodemailer insist on STARTTLS; this is the last word: no TLS, no login.
        if (!(connection as unknown as { secure?: boolean }).secure) {
          return pooled.onLost?.(Object.assign(new Error('the session is not encrypted'), { code: 'ENOTLS', command: 'STARTTLS' }));
        }
        connection.login(auth, (loginError) => (loginError ? pooled.onLost?.(loginError as SmtpError) : ready()));
      });
    });

  const acquire = async () => {
    for (let pooled = idle.pop(); pooled; pooled = idle.pop()) {
      if (!pooled.broken && pooled.sent < maxMessages) return pooled;
      if (!pooled.broken) pooled.connection.quit();
      open.delete(pooled);
    }
    return connect();
  };

  const release = (pooled: PooledConnection, needsReset: boolean) => {
    if (pooled.broken || closed) return discard(pooled);
    if (!needsReset) {
      idle.push(pooled);
      return;
    }
    pooled.connection.reset((error) => (error ? discard(pooled) : idle.push(pooled)));
  };

  return {
    connections: options.connections,
    async send(message, gate) {
      const body = await compose(message);
      let pooled: PooledConnection;
      try {
        pooled = await acquire();
      } catch (error) {
        return relayResult(error as SmtpError, 'relay');
      }
      // The body stream is piped into the DATA stream only once the envelope was accepted.
      let dataStarted = false;
      let withdrawn = false;
      let settled = false;
      const gated = gate ? gatedBody(body, gate, () => {
        // Only while this message holds the connection: after a refused envelope it may carry another.
        if (settled) return;
        withdrawn = true;
        discard(pooled);
      }) : undefined;
      const stream = gated ?? Readable.from([body]);
      const pipe = stream.pipe.bind(stream);
      stream.pipe = ((destination: NodeJS.WritableStream, pipeOptions?: { end?: boolean }) => {
        dataStarted = true;
        return pipe(destination, pipeOptions);
      }) as typeof stream.pipe;

      return new Promise<AttemptResult>((resolve) => {
        const fail = (failure: SmtpError) => {
          if (settled) return;
          settled = true;
          pooled.onLost = undefined;
          pooled.sent++;
          const envelopeRefused = failure.command === 'MAIL FROM' || failure.command === 'RCPT TO';
          let outcome: AttemptResult['outcome'];
          if (withdrawn) outcome = 'withdrawn';
          else if (failure.responseCode !== undefined) outcome = classifyFailure(failure);
          // Lost before the end of data was released (e.g. the claim took longer than the socket
          // timeout): the server cannot have accepted it, so it may be tried again.
          else if (envelopeRefused || !dataStarted || (gated && !gated.ended())) outcome = 'transient';
          else outcome = 'unknown';
          release(pooled, true);
          resolve(relayResult(failure, outcome));
        };
        pooled.onLost = fail;
        pooled.connection.send({ from: addressOf(message.from), to: [message.to] }, stream, (error, info) => {
          if (error) return fail(error as SmtpError);
          if (settled) return;
          settled = true;
          pooled.onLost = undefined;
          pooled.sent++;
          release(pooled, false);
          const response = (info as { response?: string }).response;
          resolve({ outcome: 'sent', code: replyCode(response), reply: truncate(response) });
        });
      });
    },
    async check(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const session = connect();
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      try {
        const opened = await Promise.race([session, timedOut]);
        if (opened === 'timeout') return { ok: false, cause: `relay did not complete connect, EHLO${auth ? ' and login' : ''} within ${timeoutMs} ms` };
        return { ok: true };
      } catch (error) {
        return { ok: false, cause: describeRelayFault(error as SmtpError) };
      } finally {
        clearTimeout(timer);
        // Not a pooled connection: it is let go as soon as it is open (or at once if it opens late).
        session.then((pooled) => {
          open.delete(pooled);
          pooled.broken = true;
          pooled.connection.quit();
        }, () => undefined);
      }
    },
    async close() {
      closed = true;
      for (const pooled of [...open, ...idle]) {
        try {
          if (!pooled.broken) pooled.connection.quit();
          else pooled.connection.close();
        } catch {
          // already closed
        }
      }
      idle.length = 0;
      open.clear();
    },
  };
}
