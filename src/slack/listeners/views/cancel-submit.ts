import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { interactionIdentity } from '../../access.js';
import { parseMetadata } from '../../button-value.js';
import { CONFIRM_ACTION, CONFIRM_BLOCK, CONFIRM_WORD, confirmationMatches, REASON_ACTION, REASON_BLOCK } from '../../blocks/modal.js';
import { outcomePlain } from '../../blocks/outcome.js';
import { plain } from '../../format.js';
import { CANNOT_CANCEL, DeadlineExceeded, refreshClickedMessage, withDeadline, type ListenerDeps } from '../support.js';

/**
 * The confirmation submitted. The form itself is checked first, without the database: our own
 * private_metadata (anything else is refused and audited) and the typed CANCEL. Then the service
 * re-checks permission (from the signed request's user) and state in one transaction; only a
 * cancel that happened closes the modal, or the same responder's second submit of a cancel they
 * already made (a double submit changes nothing). Anything else (already cancelled by someone
 * else, completed meanwhile, not permitted, database down) is shown inline and changes nothing.
 * Slack waits 3 s for this answer.
 */
type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const inline = (text: string, block = REASON_BLOCK) => ({ response_action: 'errors' as const, errors: { [block]: plain(text, 1900) } });

export function cancelSubmit(deps: ListenerDeps) {
  return async ({ ack, body, view }: Args): Promise<void> => {
    const identity = interactionIdentity(body);
    const meta = parseMetadata(view.private_metadata);
    if (!meta) {
      await ack(inline('This form is from another version of Campaign Guard, or was altered, so nothing was cancelled. Close it and click Cancel again.'));
      const raw = typeof view.private_metadata === 'string' ? view.private_metadata.slice(0, 200) : typeof view.private_metadata;
      await deps.gate.recordRefusal(identity, 'cancel', null, `form metadata not understood: ${plain(raw, 200)}`);
      return;
    }
    if (!confirmationMatches(view.state.values[CONFIRM_BLOCK]?.[CONFIRM_ACTION]?.value)) {
      return ack(inline(`Type ${CONFIRM_WORD} to confirm. Nothing was cancelled.`, CONFIRM_BLOCK));
    }
    try {
      const verdict = await withDeadline(deps.gate.check(identity, 'control', 'cancel', meta.target, { surface: 'modal' }), deps.deadlineMs);
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
      if (outcome.outcome === 'already_cancelled' && outcome.by === identity.userId) return ack();
      await ack(inline(outcomePlain(outcome)));
      if (outcome.outcome === 'already_cancelled' || outcome.outcome === 'already_completed') await refreshClickedMessage(deps, meta.channel ?? undefined, meta.ts ?? undefined);
    } catch (error) {
      if (!(error instanceof DeadlineExceeded)) deps.logger.error({ err: error }, 'cancel submit failed');
      await ack(inline(CANNOT_CANCEL));
    }
  };
}
