import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { DELIVERY_HEADER } from '../domain/message.js';

/**
 * An SMTP server that accepts and records mail: the default transport's destination when SMTP_URL
 * is unset (capture mode: nothing leaves the machine), and the test sink, with faults chosen per
 * recipient: reject at RCPT with a code, delay a reply, never answer (hang), or close the connection
 * once the message was received but before answering (the message may count as delivered: the
 * sender must not know).
 */
export interface SinkFault {
  /** Reply to RCPT TO with this code (4xx temporary, 5xx permanent). */
  rejectRcpt?: { code: number; message?: string };
  /** Wait this long before answering RCPT TO and the end of DATA. */
  delayMs?: number;
  /** Drop the connection after the message data arrived, before the 250. */
  closeAfterData?: boolean;
  /** Never answer RCPT TO, or never answer the end of DATA (the message arrived): a hung server. */
  hang?: 'rcpt' | 'data';
}

export interface ReceivedMessage {
  to: string[];
  from: string;
  messageId: string | undefined;
  delivery: string | undefined;
  /** False when the connection was dropped instead of answering 250. */
  acknowledged: boolean;
  at: number;
}

export interface SmtpSinkOptions {
  host?: string;
  port?: number;
  faultFor?: (recipient: string) => SinkFault | undefined;
  /** Refuse a new connection with this code (e.g. 421 "try again later"), or accept it (undefined). */
  connectFault?: () => number | undefined;
  /** How many messages to keep (the count is kept regardless). */
  keep?: number;
  /**
   * A relay as providers run one (tests): STARTTLS with this key and certificate (`starttls:
   * false` hides it), and a login required, checked by `login`, every attempt reported to `onLogin`
   * with whether the session was encrypted. Without it: no TLS, no AUTH (the capture sink).
   */
  relay?: {
    key: string | Buffer;
    cert: string | Buffer;
    starttls: boolean;
    login: (user: string, pass: string) => boolean;
    onLogin?: (attempt: { user: string; encrypted: boolean; accepted: boolean }) => void;
  };
  onMessage?: (message: ReceivedMessage) => void;
}

export interface SmtpSink {
  url: string;
  port: number;
  received: ReceivedMessage[];
  /** Messages received per delivery tag: more than 1 is a duplicate send. */
  byDelivery: Map<string, number>;
  count(): number;
  close(): Promise<void>;
}

/** Capture mode's rule: addresses at `.invalid` domains (RFC 2606) bounce, as a demo needs. */
export const captureFaults = (recipient: string): SinkFault | undefined =>
  /@[^@]+\.invalid$/i.test(recipient) ? { rejectRcpt: { code: 550, message: '5.1.1 User unknown' } } : undefined;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function headerValue(head: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:\\s*(.+)$`, 'im').exec(head);
  return match?.[1]?.trim();
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const keep = options.keep ?? Number.POSITIVE_INFINITY;
  const received: ReceivedMessage[] = [];
  const byDelivery = new Map<string, number>();
  let total = 0;
  const faultsOf = (session: SMTPServerSession) =>
    session.envelope.rcptTo.map((rcpt) => options.faultFor?.(rcpt.address)).filter((f): f is SinkFault => f !== undefined);

  const relay = options.relay;
  const server = new SMTPServer({
    ...(relay
      ? {
          key: relay.key,
          cert: relay.cert,
          hideSTARTTLS: !relay.starttls,
          disabledCommands: relay.starttls ? [] : ['STARTTLS'],
          // A client that logs in without TLS is let in: the test then sees the password went out in clear.
          allowInsecureAuth: true,
          authOptional: false,
          onAuth(auth, session, callback) {
            const accepted = relay.login(auth.username ?? '', auth.password ?? '');
            relay.onLogin?.({ user: auth.username ?? '', encrypted: Boolean(session.secure), accepted });
            if (!accepted) return callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
            callback(null, { user: auth.username });
          },
        }
      : { disabledCommands: ['AUTH', 'STARTTLS'], authOptional: true }),
    logger: false,
    size: 10 * 1024 * 1024,
    banner: 'campaign-guard sink',
    onConnect(_session, callback) {
      const code = options.connectFault?.();
      if (code) return callback(Object.assign(new Error('Service not available, try again later'), { responseCode: code }));
      callback();
    },
    async onRcptTo(address, _session, callback) {
      const fault = options.faultFor?.(address.address);
      if (fault?.hang === 'rcpt') return;
      if (fault?.delayMs) await sleep(fault.delayMs);
      if (fault?.rejectRcpt) {
        const error = Object.assign(new Error(fault.rejectRcpt.message ?? 'rejected'), { responseCode: fault.rejectRcpt.code });
        return callback(error);
      }
      callback();
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const head = raw.slice(0, Math.max(0, raw.indexOf('\r\n\r\n')) || raw.length);
        const faults = faultsOf(session);
        const closing = faults.some((f) => f.closeAfterData);
        const hanging = faults.some((f) => f.hang === 'data');
        const message: ReceivedMessage = {
          to: session.envelope.rcptTo.map((r) => r.address),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          messageId: headerValue(head, 'Message-ID'),
          delivery: headerValue(head, DELIVERY_HEADER),
          acknowledged: !closing && !hanging,
          at: Date.now(),
        };
        total++;
        if (message.delivery) byDelivery.set(message.delivery, (byDelivery.get(message.delivery) ?? 0) + 1);
        received.push(message);
        if (received.length > keep) received.shift();
        options.onMessage?.(message);
        const delay = Math.max(0, ...faults.map((f) => f.delayMs ?? 0));
        if (delay) await sleep(delay);
        if (hanging) return;
        if (closing) {
          // Gone without a reply, as a relay that drops the connection after the message's data.
          sockets.get(clientKey(session.remoteAddress, session.remotePort))?.destroy();
          return;
        }
        callback();
      });
    },
  });
  server.on('error', () => {
    // a client that vanishes mid-session is not the sink's problem
  });
  // Each client's socket by its address, for the fault that drops a connection after DATA
  // (smtp-server's session gives the address without an IPv4-mapped prefix).
  const clientKey = (address: string, port: number) => `${address.replace(/^::ffff:/, '')}:${port}`;
  const sockets = new Map<string, Socket>();
  server.server.on('connection', (socket: Socket) => {
    const key = clientKey(socket.remoteAddress ?? '', socket.remotePort ?? 0);
    sockets.set(key, socket);
    socket.once('close', () => sockets.delete(key));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    received,
    byDelivery,
    count: () => total,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
