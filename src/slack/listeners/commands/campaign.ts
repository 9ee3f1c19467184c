import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { ControlOutcome } from '../../../domain/cancel-outcome.js';
import { ID_PATTERN } from '../../../lib/ids.js';
import { outcomeMrkdwn, isSuccess } from '../../blocks/outcome.js';
import { renderActive, renderReport, renderText, USAGE } from '../../blocks/status.js';
import { clip, escape } from '../../format.js';
import type { RenderedMessage } from '../../blocks/alert.js';
import { prepareCancel } from '../cancel-flow.js';
import { DeadlineExceeded, normaliseId, UNAVAILABLE, withDeadline, type ListenerDeps } from '../support.js';

/**
 * `/campaign status | status <id or name> | cancel <id> | pause <id> | resume <id> | help`.
 * Every answer is ephemeral and acknowledged within Slack's 3 s; anything else gets the usage.
 */
const MAX_TEXT = 256;

type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

const ephemeral = (m: RenderedMessage) => ({ response_type: 'ephemeral' as const, text: m.text, blocks: m.blocks });

export function campaignCommand(deps: ListenerDeps) {
  return async ({ command, ack, client, respond }: Args): Promise<void> => {
    const identity = { userId: command.user_id, teamId: command.team_id ?? null };
    const text = command.text ?? '';
    if (text.length > MAX_TEXT) return ack(ephemeral(renderText(`That is too long for a command (${text.length} characters; at most ${MAX_TEXT}).\n${USAGE}`)));
    // eslint-disable-next-line no-control-regex
    const words = text.normalize('NFKC').replace(/[\u0000-\u001f\u007f]/g, ' ').trim().split(/\s+/).filter(Boolean);
    const verb = (words[0] ?? '').toLowerCase();
    const rest = words.slice(1).join(' ');

    if (verb === '' || verb === 'help') return ack(ephemeral(renderText(USAGE)));
    if (!['status', 'cancel', 'pause', 'resume'].includes(verb)) {
      return ack(ephemeral(renderText(`I don't know \`${escape(clip(words[0]!, 40))}\`.\n${USAGE}`)));
    }

    const answerSoon = (work: Promise<RenderedMessage>) => answerWithin(deps, { ack, respond, verb }, work);
    if (verb === 'status') {
      // Read-only: the answer is read while permission is checked, and shown only if permitted.
      const answer = async () => {
        if (!rest) return renderActive(await deps.status.active());
        const found = await deps.status.lookup(rest);
        return found.ok ? renderReport(found.value) : renderText(escape(found.reason));
      };
      return answerSoon(
        withDeadline(Promise.all([deps.gate.check(identity, 'view', verb, rest ? clip(rest, 60) : null), answer()]), deps.deadlineMs).then(([verdict, rendered]) =>
          verdict.ok ? rendered : renderText(verdict.text),
        ),
      );
    }

    try {
      const verdict = await withDeadline(deps.gate.check(identity, 'control', verb, rest ? clip(rest, 60) : null), deps.deadlineMs);
      if (!verdict.ok) return ack(ephemeral(renderText(verdict.text)));

      const id = normaliseId(rest);
      if (!ID_PATTERN.test(id)) {
        return ack(ephemeral(renderText(`\`/campaign ${verb}\` needs an id like \`dep_0a1b2c3d4e\` or \`cmp_0a1b2c3d4e\`${rest ? `; \`${escape(clip(rest, 40))}\` is not one` : ''}. Find ids with \`/campaign status\`.`)));
      }

      if (verb === 'cancel') {
        const prepared = await withDeadline(prepareCancel(deps, id, { channel: null, ts: null }), deps.deadlineMs);
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

      const request = { target: id, actor: identity.userId, requestKey: `slack:command:${command.trigger_id}` };
      return answerSoon(
        withDeadline(verb === 'pause' ? deps.control.pause(request) : deps.control.resume(request), deps.deadlineMs).then((outcome: ControlOutcome) => {
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
