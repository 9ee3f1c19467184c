import { interactionIdentity } from '../../access.js';
import { parseButtonValue } from '../../button-value.js';
import { campaignModal } from '../../blocks/modal.js';
import { SLACK_LIMITS } from '../../blocks/common.js';
import { renderReport } from '../../blocks/status.js';
import { escape } from '../../format.js';
import { notFoundMrkdwn } from '../../blocks/outcome.js';
import { DeadlineExceeded, UNAVAILABLE, withDeadline, type ListenerDeps } from '../support.js';
import { clickContext, refuseUnreadableButton, replyToClicker, type ButtonArgs } from './reply.js';

/** View (App Home): the campaign's deployments in a modal, with Cancel on top while it can work. */
export function viewCampaignButton(deps: ListenerDeps) {
  return async (args: ButtonArgs): Promise<void> => {
    const { ack, body, client } = args;
    await ack();
    const id = parseButtonValue((args.action as { value?: unknown }).value);
    try {
      if (!id) return await refuseUnreadableButton(args, deps, 'view', 'View', 'Reopen the Home tab.');
      const verdict = await withDeadline(deps.gate.check(interactionIdentity(body), 'view', 'view', id, clickContext(body).place), deps.deadlineMs);
      if (!verdict.ok) return await replyToClicker(args, 'Not permitted', verdict.text);
      const found = await withDeadline(deps.status.lookup(id), deps.deadlineMs);
      if (!found.ok) return await replyToClicker(args, 'View', found.code === 'not_found' ? notFoundMrkdwn(id) : escape(found.reason));
      const name = found.value.type === 'campaign' ? found.value.name : found.value.campaign.name;
      await client.views.open({ trigger_id: body.trigger_id, view: campaignModal(name, renderReport(found.value, { buttons: true, maxBlocks: SLACK_LIMITS.viewBlocks }).blocks) });
    } catch (error) {
      if (!(error instanceof DeadlineExceeded)) deps.logger.error({ err: error }, 'view click failed');
      await replyToClicker(args, 'Try again', UNAVAILABLE).catch(() => undefined);
    }
  };
}
