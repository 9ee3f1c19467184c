import { interactionIdentity } from '../../access.js';
import { parseButtonValue } from '../../button-value.js';
import { renderReport } from '../../blocks/status.js';
import { escape } from '../../format.js';
import { notFoundMrkdwn } from '../../blocks/outcome.js';
import { DeadlineExceeded, UNAVAILABLE, withDeadline, type ListenerDeps } from '../support.js';
import { clickContext, refuseUnreadableButton, replyToClicker, type ButtonArgs } from './reply.js';

/** Status clicked: the deployment's current report, to the clicker only. */
export function statusButton(deps: ListenerDeps) {
  return async (args: ButtonArgs): Promise<void> => {
    const { ack, body } = args;
    await ack();
    const id = parseButtonValue((args.action as { value?: unknown }).value);
    try {
      if (!id) return await refuseUnreadableButton(args, deps, 'status', 'Status', 'Use `/campaign status`.');
      const verdict = await withDeadline(deps.gate.check(interactionIdentity(body), 'view', 'status', id, clickContext(body).place), deps.deadlineMs);
      if (!verdict.ok) return await replyToClicker(args, 'Not permitted', verdict.text);
      const found = await withDeadline(deps.status.lookup(id), deps.deadlineMs);
      if (!found.ok) return await replyToClicker(args, 'Status', found.code === 'not_found' ? notFoundMrkdwn(id) : escape(found.reason));
      const report = renderReport(found.value);
      await replyToClicker(args, 'Status', report.text, report.blocks);
    } catch (error) {
      if (!(error instanceof DeadlineExceeded)) deps.logger.error({ err: error }, 'status click failed');
      await replyToClicker(args, 'Try again', UNAVAILABLE).catch(() => undefined);
    }
  };
}
