import type { App, Receiver } from '@slack/bolt';
import type { Logger } from '../lib/logger.js';
import type { AckResult, SlackDelivery } from './front-door.js';

/**
 * A Bolt receiver with no server of its own: the front door (our fastify route) verifies and
 * parses, then calls `dispatch`, which resolves with whatever the listener acknowledged with.
 * Slack waits 3 s; a listener that has not acknowledged by then gets a 404, as Bolt's own
 * receiver would answer.
 */
export class DispatchReceiver implements Receiver {
  private app: App | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly ackTimeoutMs = 3000,
  ) {}

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  dispatch = (delivery: SlackDelivery): Promise<AckResult> => {
    const app = this.app;
    if (!app) return Promise.reject(new Error('the Slack app is not initialised'));
    return new Promise<AckResult>((resolve) => {
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        this.logger.warn({ type: delivery.body.type }, 'slack request not acknowledged within 3 s');
        resolve({ acked: false });
      }, this.ackTimeoutMs);
      const finish = (result: AckResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(result);
      };
      app
        .processEvent({
          body: delivery.body,
          retryNum: delivery.retryNum,
          retryReason: delivery.retryReason,
          ack: async (response?: unknown) => finish({ acked: true, response }),
        })
        .catch((error: unknown) => {
          this.logger.error({ err: error, type: delivery.body.type }, 'slack listener failed');
          // A listener that failed before acknowledging: answer now rather than after 3 s.
          finish({ acked: true, response: undefined });
        });
    });
  };
}
