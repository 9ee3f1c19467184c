import type { ControlOutcome } from '../../../domain/cancel-outcome.js';
import { interactionIdentity } from '../../access.js';
import { parseButtonValue } from '../../button-value.js';
import { isSuccess, outcomeMrkdwn } from '../../blocks/outcome.js';
import { recentClicks } from '../repeats.js';
import { DeadlineExceeded, refreshClickedMessage, UNAVAILABLE, withDeadline, type ListenerDeps } from '../support.js';
import { firstClick, refuseUnreadableButton, replyToClicker, type ButtonArgs } from './reply.js';

/**
 * Pause or Resume clicked: the service decides (and re-checks permission); the clicker is told.
 * A double click acts once and answers once.
 */
export function controlButton(deps: ListenerDeps, action: 'pause' | 'resume') {
  const clicks = recentClicks();
  return async (args: ButtonArgs): Promise<void> => {
    const { body } = args;
    const click = await firstClick(args, clicks, action);
    if (!click) return;
    const { channel, ts, place } = click;
    const id = parseButtonValue(click.value);
    try {
      if (!id) return await refuseUnreadableButton(args, deps, action, `Cannot ${action}`, 'Use `/campaign status`.');
      const identity = interactionIdentity(body);
      const verdict = await withDeadline(deps.gate.check(identity, 'control', action, id, place), deps.deadlineMs);
      if (!verdict.ok) return await replyToClicker(args, 'Not permitted', verdict.text);
      const request = { target: id, actor: identity.userId, requestKey: `slack:action:${body.trigger_id}` };
      const outcome: ControlOutcome = await withDeadline(action === 'pause' ? deps.control.pause(request) : deps.control.resume(request), deps.deadlineMs);
      if (isSuccess(outcome)) {
        deps.outboxChanged();
        deps.homeChanged();
      } else {
        await refreshClickedMessage(deps, channel, ts);
      }
      await replyToClicker(args, action === 'pause' ? 'Pause' : 'Resume', outcomeMrkdwn(outcome));
    } catch (error) {
      if (!(error instanceof DeadlineExceeded)) deps.logger.error({ err: error, action }, 'control click failed');
      await replyToClicker(args, 'Try again', UNAVAILABLE).catch((e: unknown) => deps.logger.warn({ err: e }, 'could not answer a click'));
    }
  };
}
