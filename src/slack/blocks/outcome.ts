import { describeOutcome, type ControlOutcome } from '../../domain/cancel-outcome.js';
import { actorMention, escape, plain, visible } from '../format.js';

/**
 * Not found, in Slack: one answer whether the id never existed, was removed, or is not one the
 * asker may see (no existence oracle). The CLI, run by an operator, keeps its plainer words.
 */
const NOT_FOUND = 'was not found, or you may not see it. Nothing was changed. Find ids with `/campaign status`.';

export function notFoundMrkdwn(reference: string): string {
  return `\`${visible(reference, 60)}\` ${NOT_FOUND}`;
}

/**
 * A control outcome in the CLI's words (`describeOutcome`), made safe for Slack: in mrkdwn every
 * user-supplied part is escaped and a Slack user becomes a mention; in plain text (a modal's
 * inline error) nothing is parsed, so it is only cleaned.
 */
export function outcomeMrkdwn(o: ControlOutcome): string {
  if (o.outcome === 'not_found') return notFoundMrkdwn(o.target);
  const copy = { ...o } as ControlOutcome;
  if (copy.outcome === 'already_cancelled') copy.by = actorMention(copy.by);
  if (copy.outcome === 'not_permitted' || copy.outcome === 'not_allowed') copy.why = escape(copy.why);
  if (copy.outcome === 'cancelled' && copy.lockOverride) copy.lockOverride = { ...copy.lockOverride, holder: escape(copy.lockOverride.holder) };
  return describeOutcome(copy);
}

export function outcomePlain(o: ControlOutcome): string {
  if (o.outcome === 'not_found') return plain(`${o.target} ${NOT_FOUND.replace(/`/g, '')}`, 1900);
  return plain(describeOutcome(o), 1900);
}

export const isSuccess = (o: ControlOutcome) => o.outcome === 'cancelled' || o.outcome === 'paused' || o.outcome === 'resumed';
