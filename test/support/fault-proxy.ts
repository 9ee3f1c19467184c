import net from 'node:net';

/**
 * A TCP proxy of our own between the app and one dependency (Postgres, Redis, SMTP), whose
 * behaviour a test switches at any moment: pass, add latency, blackhole, reset (RST) or close
 * (FIN) every connection, or refuse new ones. Switching to reset/close also drops the connections
 * open now. A blackhole is a partition as TCP sees one: nothing gets through and nobody is told,
 * and when it heals what was held arrives, in order (TCP retransmits; it never loses bytes of a
 * live connection). A side that gave up meanwhile has closed its connection, and its bytes go.
 */
export type FaultMode = 'pass' | 'latency' | 'blackhole' | 'reset' | 'close' | 'refuse';

export interface FaultProxy {
  url(protocol: string, path?: string): string;
  port: number;
  mode: FaultMode;
  set(mode: FaultMode, options?: { latencyMs?: number }): void;
  /** Connections open now. */
  connections(): number;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let mode: FaultMode = 'pass';
  let latencyMs = 0;
  const pairs = new Set<Pair>();

  const drop = (pair: Pair, how: 'reset' | 'close') => {
    for (const socket of [pair.client, pair.upstream]) {
      if (how === 'reset') socket.resetAndDestroy();
      else socket.end();
    }
    pairs.delete(pair);
  };

  const held = new Set<() => void>();

  /** Forwards one direction, honouring the mode at the time each chunk arrives. */
  const forward = (from: net.Socket, to: net.Socket) => {
    const queue: Buffer[] = [];
    const flush = () => {
      held.delete(flush);
      for (const chunk of queue.splice(0)) if (!to.destroyed) to.write(chunk);
    };
    from.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole' || queue.length > 0) {
        queue.push(chunk);
        held.add(flush);
        return;
      }
      if (mode === 'latency' && latencyMs > 0) {
        from.pause();
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk);
          from.resume();
        }, latencyMs);
        return;
      }
      if (!to.destroyed) to.write(chunk);
    });
    from.on('end', () => to.end());
    from.on('error', () => to.destroy());
    from.on('close', () => to.destroy());
  };

  // Every socket accepted, paired or not, so closing the proxy never waits on a straggler.
  const accepted = new Set<net.Socket>();
  const server = net.createServer((client) => {
    accepted.add(client);
    client.on('close', () => accepted.delete(client));
    client.setNoDelay(true);
    if (mode === 'refuse' || mode === 'reset') return client.resetAndDestroy();
    if (mode === 'close') return client.end();
    const upstream = net.connect({ host: target.host, port: target.port, noDelay: true });
    const pair = { client, upstream };
    pairs.add(pair);
    client.on('close', () => pairs.delete(pair));
    upstream.on('error', () => client.destroy());
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    url: (protocol, path = '') => `${protocol}://127.0.0.1:${port}${path}`,
    get mode() {
      return mode;
    },
    set(next, options = {}) {
      mode = next;
      latencyMs = options.latencyMs ?? latencyMs;
      if (next === 'reset' || next === 'close') for (const pair of [...pairs]) drop(pair, next);
      if (next !== 'blackhole') for (const flush of [...held]) flush();
    },
    connections: () => pairs.size,
    async close() {
      for (const pair of [...pairs]) drop(pair, 'reset');
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
