/**
 * Text for Slack: everything user-supplied (names, reasons, references, actors typed in the CLI)
 * goes through `escape` before it is put into mrkdwn, so `<!channel>` or `<@U…>` typed by someone
 * shows as text and notifies nobody.
 */
export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A stored name in a line that goes on after it (ids, status, counts): at most `max` code points
 * (an ellipsis for the rest), escaped, so a long name cannot push what follows past a block's limit.
 */
export function shortName(name: string, max = 80): string {
  const points = Array.from(name);
  return escape(points.length > max ? `${points.slice(0, max - 1).join('')}…` : name);
}

/**
 * Text someone typed, shown back to them in mrkdwn (an unknown verb, an id that is not one): at
 * most `max` characters (counted in code points, so an emoji is never cut in half), with control,
 * invisible and bidi characters (U+0000–U+001F, U+200B, U+202E…) and lone surrogates shown as
 * U+FFFD, backticks as quotes (it is shown in code spans), and escaped.
 */
export function visible(text: string, max = 40): string {
  const points = Array.from(text);
  const cut = points.length > max ? `${points.slice(0, max - 1).join('')}…` : text;
  return escape(cut.replace(/[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/gu, '\uFFFD').replace(/`/g, "'"));
}

/** Plain-text fields (modal titles, input errors) are not parsed as mrkdwn, but keep them short and clean. */
export function plain(text: string, max = 2000): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

/** A Slack user id becomes a mention; anything else (a CLI actor) is escaped text. */
export function actorMention(actor: string | null | undefined): string {
  if (!actor) return 'someone';
  return SLACK_USER.test(actor) ? `<@${actor}>` : escape(actor);
}

export const count = (value: number) => value.toLocaleString('en-US');

/** A fraction 0..1 as a percentage with at most two decimals. */
export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return 'n/a';
  const p = rate * 100;
  return `${p >= 10 ? p.toFixed(1) : p.toFixed(2).replace(/0$/, '')}%`;
}

export const isoMinute = (date: Date | string | null | undefined) =>
  date ? new Date(date).toISOString().replace(/:\d{2}\.\d{3}Z$/, 'Z').replace('T', ' ') : 'an unknown time';

/** A Slack date token: shown in each reader's time zone, with a UTC fallback. */
export function slackDate(date: Date | string | null | undefined): string {
  if (!date) return 'an unknown time';
  const d = new Date(date);
  return `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time}|${isoMinute(d)}>`;
}

/** Cuts mrkdwn at a block's limit (3000 characters in a section). */
export function clip(text: string, max = 2900): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
