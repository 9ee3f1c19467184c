import type { ButtonArgs } from './reply.js';

/** A link button (runbook, dashboard): Slack opens the URL itself and still sends the click, which needs only an acknowledgement. */
export function linkButton() {
  return async ({ ack }: ButtonArgs): Promise<void> => {
    await ack();
  };
}
