import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { interactionIdentity } from '../../access.js';
import { parseMetadata } from '../../button-value.js';
import { REASON_ACTION, REASON_BLOCK } from '../../blocks/modal.js';
import { outcomePlain } from '../../blocks/outcome.js';
import { plain } from '../../format.js';
import { CANNOT_CANCEL, DeadlineExceeded, refreshClickedMessage, withDeadline, type ListenerDeps } from '../support.js';

/**
 * The confirmation submitted. The service re-checks permission (from the signed request's user)
 * and state in one transaction; only a cancel that happened closes the modal. Anything else
 * (already cancelled by someone else, completed meanwhile, not permitted, database down) is shown
 * inline and changes nothing. Slack waits 3 s for this answer.
 */
type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const inline = (text: string) => ({ response_action: 'errors' as const, errors: { [REASON_BLOCK]: plain(text, 1900) } });

export function cancelSubmit(deps: ListenerDeps) {
  return async ({ ack, body, view }: Args): Promise<void> => {
    const meta = parseMetadata(view.private_metadata);
    if (!meta) return ack(inline('This form is from an older version of Campaign Guard. Close it and click Cancel again.'));
    const identity = interactionIdentity(body);
    try {
      const verdict = await withDeadline(deps.gate.check(identity, 'control', 'cancel', meta.target), deps.deadlineMs);
      if (!verdict.ok) return ack(inline(verdict.text.replace(/:[a-z_]+: /g, '')));
      const reason = view.state.values[REASON_BLOCK]?.[REASON_ACTION]?.value ?? null;
      // Past the deadline the responder is told nothing was cancelled, so the cancel must not commit later.
      const giveUp = new AbortController();
      const outcome = await withDeadline(
        deps.control.cancel({ target: meta.target, actor: identity.userId, reason, requestKey: `slack:view:${view.id}`, giveUp: { afterMs: deps.deadlineMs, signal: giveUp.signal } }),
        deps.deadlineMs,
      ).catch((error: unknown) => {
        giveUp.abort();
        throw error;
      });
      if (outcome.outcome === 'cancelled') {
        await ack();
        deps.outboxChanged();
        deps.homeChanged();
        return;
      }
      await ack(inline(outcomePlain(outcome)));
      if (outcome.outcome === 'already_cancelled' || outcome.outcome === 'already_completed') await refreshClickedMessage(deps, meta.channel ?? undefined, meta.ts ?? undefined);
    } catch (error) {
      if (!(error instanceof DeadlineExceeded)) deps.logger.error({ err: error }, 'cancel submit failed');
      await ack(inline(CANNOT_CANCEL));
    }
  };
}
