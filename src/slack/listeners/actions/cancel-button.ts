import { interactionIdentity } from '../../access.js';
import { parseButtonValue } from '../../button-value.js';
import { prepareCancel } from '../cancel-flow.js';
import { recentClicks } from '../repeats.js';
import { DeadlineExceeded, refreshClickedMessage, UNAVAILABLE, withDeadline, type ListenerDeps } from '../support.js';
import { firstClick, refuseUnreadableButton, replyToClicker, type ButtonArgs } from './reply.js';

/**
 * Cancel clicked: acknowledge at once, check who clicked and where (from the signed request), and
 * open the confirmation modal while the trigger is fresh. A refusal, or a deployment that already
 * ended, is explained to the clicker only; an out-of-date message is edited so its buttons go.
 * A double click opens one modal.
 */
export function cancelButton(deps: ListenerDeps) {
  const clicks = recentClicks();
  return async (args: ButtonArgs): Promise<void> => {
    const { body, client } = args;
    const click = await firstClick(args, clicks, 'cancel');
    if (!click) return;
    const { channel, ts, inModal, place } = click;
    const id = parseButtonValue(click.value);
    try {
      if (!id) return await refuseUnreadableButton(args, deps, 'cancel', 'Cannot cancel', 'Use `/campaign status` to find the deployment.');
      const verdict = await withDeadline(deps.gate.check(interactionIdentity(body), 'control', 'cancel', id, place), deps.deadlineMs);
      if (!verdict.ok) return await replyToClicker(args, 'Not permitted', verdict.text);
      const prepared = await withDeadline(prepareCancel(deps, id, { channel: channel ?? null, ts: ts ?? null }), deps.deadlineMs);
      if (!prepared.ok) {
        if (prepared.stale) await refreshClickedMessage(deps, channel, ts);
        return await replyToClicker(args, 'Nothing to cancel', prepared.text);
      }
      try {
        if (inModal) await client.views.push({ trigger_id: body.trigger_id, view: prepared.view });
        else await client.views.open({ trigger_id: body.trigger_id, view: prepared.view });
      } catch (error) {
        // The trigger lasts 3 s; if Slack refused it, say so rather than leave the click unanswered.
        deps.logger.warn({ err: error }, 'could not open the cancel modal');
        await replyToClicker(args, 'Try again', `Slack did not open the confirmation in time, so nothing was cancelled. Click Cancel again, or run \`/campaign cancel ${prepared.target}\`.`);
      }
    } catch (error) {
      if (!(error instanceof DeadlineExceeded)) deps.logger.error({ err: error }, 'cancel click failed');
      await replyToClicker(args, 'Try again', UNAVAILABLE).catch((e: unknown) => deps.logger.warn({ err: e }, 'could not answer a cancel click'));
    }
  };
}
