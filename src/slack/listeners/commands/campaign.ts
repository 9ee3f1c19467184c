import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { ControlOutcome } from '../../../domain/cancel-outcome.js';
import type { Place } from '../../access.js';
import { notFoundMrkdwn, outcomeMrkdwn, isSuccess } from '../../blocks/outcome.js';
import { acknowledgeMrkdwn } from '../../blocks/on-call.js';
import { renderActive, renderReport, renderText } from '../../blocks/status.js';
import { parseCommandText } from '../../command-text.js';
import { escape } from '../../format.js';
import type { RenderedMessage } from '../../blocks/alert.js';
import { prepareCancel } from '../cancel-flow.js';
import { DeadlineExceeded, UNAVAILABLE, withDeadline, type ListenerDeps } from '../support.js';

/**
 * `/campaign status | status <id or name> | cancel <id> [reason] | pause <id> | resume <id> | ack <id> | help`.
 * The text is parsed first, without the database (command-text.ts): usage and malformed input are
 * answered at once. Then who asks and from where (access.ts), then the service. Every answer is
 * ephemeral and acknowledged within Slack's 3 s.
 */
type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

const ephemeral = (m: RenderedMessage) => ({ response_type: 'ephemeral' as const, text: m.text, blocks: m.blocks });

export function campaignCommand(deps: ListenerDeps) {
  return async ({ command, ack, client, respond }: Args): Promise<void> => {
    const identity = { userId: command.user_id, teamId: command.team_id ?? null };
    const place: Place = { channel: command.channel_id, name: command.channel_name ?? null };
    const request = parseCommandText(command.text ?? '');
    if (request.kind === 'reply') return ack(ephemeral(renderText(request.text)));

    const verb = request.kind;
    const answerSoon = (work: Promise<RenderedMessage>) => answerWithin(deps, { ack, respond, verb }, work);
    if (request.kind === 'status') {
      // Read-only: the answer is read while permission is checked, and shown only if permitted.
      const { reference } = request;
      const answer = async () => {
        if (!reference) return renderActive(await deps.status.active());
        const found = await deps.status.lookup(reference);
        if (found.ok) return renderReport(found.value);
        return renderText(found.code === 'not_found' ? notFoundMrkdwn(reference) : escape(found.reason));
      };
      return answerSoon(
        withDeadline(Promise.all([deps.gate.check(identity, 'view', verb, reference ? reference.slice(0, 60) : null, place), answer()]), deps.deadlineMs).then(([verdict, rendered]) =>
          verdict.ok ? rendered : renderText(verdict.text),
        ),
      );
    }

    try {
      const verdict = await withDeadline(deps.gate.check(identity, 'control', verb, request.id, place), deps.deadlineMs);
      if (!verdict.ok) return ack(ephemeral(renderText(verdict.text)));

      if (request.kind === 'cancel') {
        const prepared = await withDeadline(prepareCancel(deps, request.id, { channel: null, ts: null }, request.reason), deps.deadlineMs);
        if (!prepared.ok) return ack(ephemeral(renderText(prepared.text)));
        await ack();
        try {
          await client.views.open({ trigger_id: command.trigger_id, view: prepared.view });
        } catch (error) {
          deps.logger.warn({ err: error }, 'could not open the cancel modal');
          await respond({ response_type: 'ephemeral', text: 'Slack did not open the confirmation in time. Run the command again.' }).catch(() => undefined);
        }
        return;
      }

      if (request.kind === 'ack') {
        return answerSoon(
          withDeadline(deps.onCall.acknowledge(request.id, identity.userId), deps.deadlineMs).then((outcome) => {
            if (outcome.ok) {
              deps.outboxChanged();
              deps.homeChanged();
            }
            return renderText(acknowledgeMrkdwn(outcome));
          }),
        );
      }

      const control = { target: request.id, actor: identity.userId, requestKey: `slack:command:${command.trigger_id}` };
      return answerSoon(
        withDeadline(request.kind === 'pause' ? deps.control.pause(control) : deps.control.resume(control), deps.deadlineMs).then((outcome: ControlOutcome) => {
          if (isSuccess(outcome)) {
            deps.outboxChanged();
            deps.homeChanged();
          }
          return renderText(outcomeMrkdwn(outcome));
        }),
      );
    } catch (error) {
      if (!(error instanceof DeadlineExceeded)) deps.logger.error({ err: error, verb }, '/campaign failed');
      return ack(ephemeral(renderText(UNAVAILABLE)));
    }
  };
}

/**
 * An answer that is ready within `quickAckMs` goes in the acknowledgement itself; a slower one
 * (a busy database) is acknowledged at once and follows through the command's response_url, so
 * Slack never waits on our database. A failure or a missed deadline answers "cannot right now".
 */
async function answerWithin(
  deps: ListenerDeps,
  io: { ack: Args['ack']; respond: Args['respond']; verb: string },
  work: Promise<RenderedMessage>,
): Promise<void> {
  const answer = work.catch((error: unknown) => {
    if (!(error instanceof DeadlineExceeded)) deps.logger.error({ err: error, verb: io.verb }, '/campaign failed');
    return renderText(UNAVAILABLE);
  });
  let timer: NodeJS.Timeout | undefined;
  const early = await Promise.race([answer, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), deps.quickAckMs)))]);
  clearTimeout(timer);
  if (early) return io.ack(ephemeral(early));
  await io.ack();
  const message = await answer;
  await io.respond(ephemeral(message)).catch((error: unknown) => deps.logger.warn({ err: error, verb: io.verb }, 'could not send the answer through response_url'));
}
