import { interactionIdentity } from '../../access.js';
import { parseSnoozeValue, snoozeMrkdwn } from '../../blocks/on-call.js';
import { DeadlineExceeded, UNAVAILABLE, withDeadline, type ListenerDeps } from '../support.js';
import { clickContext, refuseUnreadableButton, replyToClicker, type ButtonArgs } from './reply.js';

/** A Snooze choice picked on a warning: the gate, then the service; the responder is told until when. */
export function snoozeSelect(deps: ListenerDeps) {
  return async (args: ButtonArgs): Promise<void> => {
    const { ack, body } = args;
    await ack();
    const selected = (args.action as { selected_option?: { value?: unknown } }).selected_option?.value;
    const choice = parseSnoozeValue(selected);
    try {
      if (!choice) return await refuseUnreadableButton({ ...args, action: { ...args.action, value: selected } as ButtonArgs['action'] }, deps, 'snooze', 'Cannot snooze', 'Reload the alert and pick again.');
      const identity = interactionIdentity(body);
      const verdict = await withDeadline(deps.gate.check(identity, 'control', 'snooze', choice.alertId, clickContext(body).place), deps.deadlineMs);
      if (!verdict.ok) return await replyToClicker(args, 'Not permitted', verdict.text);
      const outcome = await withDeadline(deps.onCall.snooze(choice.alertId, choice.choice, identity.userId), deps.deadlineMs);
      if (outcome.ok) {
        deps.outboxChanged();
        deps.homeChanged();
      }
      await replyToClicker(args, 'Snooze', snoozeMrkdwn(outcome));
    } catch (error) {
      if (!(error instanceof DeadlineExceeded)) deps.logger.error({ err: error }, 'snooze failed');
      await replyToClicker(args, 'Try again', UNAVAILABLE).catch((e: unknown) => deps.logger.warn({ err: e }, 'could not answer a snooze'));
    }
  };
}
