import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * Slack's side of Socket Mode on localhost: a WebSocket server that greets each connection with
 * `hello`, delivers envelopes when told, asks the client to reconnect (`disconnect`, as Slack does
 * when it recycles a connection), and records every acknowledgement the app sends back.
 */
export interface Ack {
  envelope_id: string;
  payload?: Record<string, unknown>;
  connection: number;
}

export async function startFakeSocketMode() {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const connections: WebSocket[] = [];
  const acks: Ack[] = [];
  server.on('connection', (socket) => {
    const index = connections.push(socket) - 1;
    socket.on('message', (data) => acks.push({ ...(JSON.parse(String(data)) as Omit<Ack, 'connection'>), connection: index }));
    socket.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake', approximate_connection_time: 3600 }, connection_info: { app_id: 'A0APP00001' } }));
  });
  const open = () => connections.filter((c) => c.readyState === c.OPEN);
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/link/?ticket=test`,
    acks,
    /** How many connections the app has opened so far. */
    connectionCount: () => connections.length,
    /** Sends an envelope on the newest open connection, as Slack would. */
    deliver(envelope: { envelope_id: string; type: string; payload: unknown; accepts_response_payload?: boolean; retry_attempt?: number; retry_reason?: string }) {
      const socket = open().at(-1);
      if (!socket) throw new Error('no open Socket Mode connection');
      socket.send(JSON.stringify({ accepts_response_payload: false, ...envelope }));
    },
    /** Asks the app to reconnect, as Slack does before recycling a connection. */
    refresh() {
      for (const socket of open()) socket.send(JSON.stringify({ type: 'disconnect', reason: 'refresh_requested', debug_info: { host: 'fake' } }));
    },
    async close() {
      for (const socket of connections) socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type FakeSocketMode = Awaited<ReturnType<typeof startFakeSocketMode>>;
