import { interactionIdentity } from '../../access.js';
import { parseButtonValue } from '../../button-value.js';
import { acknowledgeMrkdwn } from '../../blocks/on-call.js';
import { recentClicks } from '../repeats.js';
import { DeadlineExceeded, UNAVAILABLE, withDeadline, type ListenerDeps } from '../support.js';
import { firstClick, refuseUnreadableButton, replyToClicker, type ButtonArgs } from './reply.js';

/**
 * Acknowledge clicked ("I'm on it"): the gate checks who and where, the service records it (and
 * stops the re-announcement); the clicker is told, and everyone sees it on the alert once the
 * message is edited. A second acknowledgement is answered with who was first. Locks nothing.
 */
export function acknowledgeButton(deps: ListenerDeps) {
  const clicks = recentClicks();
  return async (args: ButtonArgs): Promise<void> => {
    const { body } = args;
    const click = await firstClick(args, clicks, 'acknowledge');
    if (!click) return;
    const { place } = click;
    const id = parseButtonValue(click.value);
    try {
      if (!id) return await refuseUnreadableButton(args, deps, 'acknowledge', 'Cannot acknowledge', 'Use `/campaign ack <alert id>`.');
      const identity = interactionIdentity(body);
      const verdict = await withDeadline(deps.gate.check(identity, 'control', 'acknowledge', id, place), deps.deadlineMs);
      if (!verdict.ok) return await replyToClicker(args, 'Not permitted', verdict.text);
      const outcome = await withDeadline(deps.onCall.acknowledge(id, identity.userId), deps.deadlineMs);
      if (outcome.ok) {
        deps.outboxChanged();
        deps.homeChanged();
      }
      await replyToClicker(args, 'Acknowledge', acknowledgeMrkdwn(outcome));
    } catch (error) {
      if (!(error instanceof DeadlineExceeded)) deps.logger.error({ err: error }, 'acknowledge click failed');
      await replyToClicker(args, 'Try again', UNAVAILABLE).catch((e: unknown) => deps.logger.warn({ err: e }, 'could not answer an acknowledge click'));
    }
  };
}
