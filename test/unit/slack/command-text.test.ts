import { describe, expect, it } from 'vitest';
import { MAX_TEXT, parseCommandText } from '../../../src/slack/command-text.js';
import { visible } from '../../../src/slack/format.js';

/**
 * The /campaign text parser runs without a database (it imports none): whatever it answers with
 * a `reply` is refused before any permission check or query. These are the catalogue's inputs.
 */
const DEP = 'dep_0a1b2c3d4e';
const reply = (text: string) => {
  const parsed = parseCommandText(text);
  if (parsed.kind !== 'reply') throw new Error(`expected a refusal for ${JSON.stringify(text)}, got ${JSON.stringify(parsed)}`);
  return parsed.text;
};

describe('parseCommandText', () => {
  it('C1: empty text, whitespace, help (any case) and an unknown verb are answered with the usage', () => {
    for (const text of ['', '   ', '\t', 'help', 'HELP', 'ｈｅｌｐ']) expect(reply(text)).toContain('/campaign status');
    expect(reply('launch now')).toMatch(/^I don't know `launch`\.\n\*\/campaign\*/);
  });

  it(`C2: more than ${MAX_TEXT} characters or 40 words is "too long", whatever it says`, () => {
    expect(reply(`cancel ${'x'.repeat(4000)}`)).toMatch(/too long for a command \(4007 characters; at most 256\)/);
    expect(reply(`cancel ${DEP} ${Array.from({ length: 99 }, () => 'a').join(' ')}`)).toMatch(/too long for a command \(101 words; at most 40\)/);
    // The cap comes first: a NUL past the cap is not what is reported.
    expect(reply(`${'a '.repeat(200)}\u0000`)).toMatch(/too long/);
    expect(parseCommandText(`cancel ${DEP} ${'a'.repeat(MAX_TEXT - 22)}`).kind).toBe('cancel');
  });

  it('C4: injection, traversal and template ids are not ids; nothing of them is taken', () => {
    for (const bad of ['1 OR 1=1', "'; DROP TABLE deployments;--", '../../etc', '${7*7}', '{{7*7}}', '%00', 'dep_123', `${DEP}'`, `${DEP};`, `dep_0A1B2C3D4E`]) {
      for (const verb of ['cancel', 'pause', 'resume']) expect(reply(`${verb} ${bad}`)).toMatch(new RegExp(`^\`/campaign ${verb}\` needs an id like`));
    }
    expect(reply('pause')).toBe('`/campaign pause` needs an id like `dep_0a1b2c3d4e` or `cmp_0a1b2c3d4e`. Find ids with `/campaign status`.');
    // Two ids are not "the first one": a pause of something else than asked is refused.
    expect(reply(`pause ${DEP} dep_1111111111`)).toMatch(/takes one id, and nothing after it/);
  });

  it('C5: a NUL byte anywhere is refused, not stripped (stripping would turn `dep_…\\0` into a valid id)', () => {
    for (const text of [`pause ${DEP}\u0000`, `pause \u0000${DEP}`, `\u0000pause ${DEP}`, `cancel ${DEP} reason\u0000`, 'help\u0000', `status ${DEP}\u001b[2J`, `pause ${DEP}\u0085`]) {
      expect(reply(text)).toBe('That command contains control characters (such as NUL), so it was not read. Type it again.');
    }
    // Tab, CR and LF are only whitespace.
    expect(parseCommandText(`pause\t${DEP}\r\n`)).toEqual({ kind: 'pause', id: DEP });
  });

  it('C6: NFKC, then ASCII only: full-width forms are the same id; look-alikes, invisible, bidi, marks, emoji and lone surrogates are refused', () => {
    const fullWidth = Array.from(DEP, (c) => String.fromCodePoint(c === '_' ? 0xff3f : c.codePointAt(0)! + 0xfee0)).join('');
    expect(parseCommandText(`pause ${fullWidth}`)).toEqual({ kind: 'pause', id: DEP });
    const lookAlikes = [
      DEP.replace('a', '\u0430'), // Cyrillic а
      'dep_１２３', // full-width digits, but too short once normalised
      DEP.replace('0', '\u0660'), // Arabic-Indic zero
      `${DEP}\u200b`, // zero-width space
      `\u202e${DEP}`, // right-to-left override
      DEP.replace('a', 'a\u0301'), // combining acute
      `${DEP.slice(0, -1)}💥`,
      `${DEP.slice(0, -1)}\ud800`, // a lone surrogate
    ];
    for (const id of lookAlikes) {
      const text = reply(`cancel ${id}`);
      expect(text).toMatch(/needs an id like/);
      expect(text).not.toMatch(/[\u200b\u202e\ud800]/);
    }
  });

  it('C7: Slack-formatted tokens are never taken for ids or verbs, and are escaped when shown', () => {
    for (const token of ['<@U123>', '<#C123|general>', '<!channel>', '<mailto:a@b|a@b>', '<https://x|y>', `<https://x|${DEP}>`]) {
      const text = reply(`cancel ${token}`);
      expect(text).toMatch(/needs an id like/);
      expect(text).not.toContain('<');
      expect(reply(token)).toMatch(/^I don't know `&lt;/);
    }
    expect(parseCommandText('status <#C123|general>')).toEqual({ kind: 'status', reference: '<#C123|general>' });
  });

  it('C8: /campaign cancel <id> <reason> keeps the reason as typed (the modal shows it; the service cleans it)', () => {
    expect(parseCommandText(`cancel ${DEP} bounce spike\nfrom <!channel>`)).toEqual({ kind: 'cancel', id: DEP, reason: 'bounce spike from <!channel>' });
    expect(parseCommandText(`cancel ${DEP}`)).toEqual({ kind: 'cancel', id: DEP, reason: null });
  });
});

describe('visible (text shown back)', () => {
  it('C6 C7: clips by code points, replaces invisible characters and lone surrogates, escapes & < >', () => {
    expect(visible('<!channel> & <@U1>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt;');
    expect(visible('a\u200bb\u202ec\u0000d\ud800e`f')).toBe("a\ufffdb\ufffdc\ufffdd\ufffde'f");
    expect(visible('💥'.repeat(50), 5)).toBe('💥💥💥💥…');
  });
});
