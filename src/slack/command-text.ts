import { ID_PATTERN, idKind } from '../lib/ids.js';
import { USAGE } from './blocks/status.js';
import { visible } from './format.js';

/**
 * `/campaign` text → what was asked, without touching the database: anything malformed is
 * answered here, so it never reaches a query. The policy, in order:
 * 1. More than 256 characters or 40 words: "too long", before anything else is read.
 * 2. A control character other than tab, CR and LF (NUL above all) anywhere: refused, not repaired.
 * 3. NFKC: full-width and other compatibility forms become their ASCII letters and digits
 *    (`ｄｅｐ＿…` is `dep_…`); look-alikes from other scripts (Cyrillic `а`, Arabic-Indic digits),
 *    invisible and bidi characters, combining marks and emoji stay what they are, and so fail
 *    the ASCII-only id pattern.
 * 4. Ids must match ID_PATTERN exactly (`dep_` / `cmp_` + 10 base32 characters). Nothing else is
 *    taken for an id: not Slack's own formatting (`<@U…>`, `<#C…|name>`, `<https://…|…>`).
 * Whatever is shown back is `visible`: clipped, invisible characters replaced, escaped.
 */
export const MAX_TEXT = 256;
export const MAX_WORDS = 40;

export type CommandRequest =
  /** Answered as it is (usage, or why the text was not read): no permission check, no database. */
  | { kind: 'reply'; text: string }
  | { kind: 'status'; reference: string | null }
  | { kind: 'cancel'; id: string; reason: string | null }
  | { kind: 'pause' | 'resume'; id: string }
  /** An alert id, or a deployment id for every open alert of it. */
  | { kind: 'ack'; id: string };

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

const needsId = (verb: string, given: string) =>
  `\`/campaign ${verb}\` needs an id like \`dep_0a1b2c3d4e\` or \`cmp_0a1b2c3d4e\`${given ? `; \`${visible(given)}\` is not one` : ''}. Find ids with \`/campaign status\`.`;

export function parseCommandText(raw: string): CommandRequest {
  const words = raw.split(/\s+/).filter(Boolean);
  if (raw.length > MAX_TEXT || words.length > MAX_WORDS) {
    const size = raw.length > MAX_TEXT ? `${raw.length} characters; at most ${MAX_TEXT}` : `${words.length} words; at most ${MAX_WORDS}`;
    return { kind: 'reply', text: `That is too long for a command (${size}), so it was not read.\n${USAGE}` };
  }
  if (CONTROL.test(raw)) return { kind: 'reply', text: 'That command contains control characters (such as NUL), so it was not read. Type it again.' };
  const [first = '', ...rest] = raw.normalize('NFKC').trim().split(/\s+/).filter(Boolean);
  const verb = first.toLowerCase();
  if (verb === '' || verb === 'help') return { kind: 'reply', text: USAGE };
  if (verb === 'status') return { kind: 'status', reference: rest.length ? rest.join(' ') : null };
  if (verb === 'ack' || verb === 'acknowledge') return parseAck(rest);
  if (verb !== 'cancel' && verb !== 'pause' && verb !== 'resume') return { kind: 'reply', text: `I don't know \`${visible(first)}\`.\n${USAGE}` };

  const [id = '', ...more] = rest;
  if (!ID_PATTERN.test(id)) return { kind: 'reply', text: needsId(verb, rest.join(' ')) };
  if (verb === 'cancel') return { kind: 'cancel', id, reason: more.length ? more.join(' ') : null };
  if (more.length) return { kind: 'reply', text: `\`/campaign ${verb}\` takes one id, and nothing after it (\`${visible(more.join(' '))}\` was not read). Nothing was changed.` };
  return { kind: verb, id };
}

function parseAck(rest: string[]): CommandRequest {
  const [id = '', ...more] = rest;
  const kind = idKind(id);
  if (kind !== 'alert' && kind !== 'deployment') {
    return { kind: 'reply', text: `\`/campaign ack\` needs an alert id like \`alr_0a1b2c3d4e\` (shown under the alert) or a deployment id like \`dep_0a1b2c3d4e\`${rest.length ? `; \`${visible(rest.join(' '))}\` is not one` : ''}. Nothing was changed.` };
  }
  if (more.length) return { kind: 'reply', text: `\`/campaign ack\` takes one id, and nothing after it (\`${visible(more.join(' '))}\` was not read). Nothing was changed.` };
  return { kind: 'ack', id };
}
