import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { composeDirect, composeWithMailComposer, createMessageComposer, fromLineOf } from '../../../src/mail/compose.js';
import { buildMessage, type OutgoingMessage } from '../../../src/domain/message.js';

/** A small seeded generator, so a failure names a case that can be run again. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  return { next, pick, int: (max: number) => Math.floor(next() * max) };
}

const FROMS = [
  'Bench <bench@example.com>',
  'news@example.com',
  'Bénch Ünïcode <b@example.com>',
  '"Quoted, Name" <q@example.com>',
  '中文 发件人 <zh@example.com>',
  'A Very Long Sender Name That Goes On And On For Quite Some Time <long.sender.address@mail.subdomain.example.com>',
];
const ASCII_WORDS = ['Hello', 'hi', 'offer', 'Q3', 'a', '50%', 'off!', 'it\'s', 'x=y', '=?utf-8?', 'dots...', '(note)', 'a,b', '<tag>', 'under_score', 'http://example.com/a?b=c&d=e'];
const OTHER_WORDS = ['José', 'Zoë', 'naïve', 'Ünïcode', '中文', 'привет', '🎉', 'café', '"quoted"', 'tab\there'];
const TOS = [
  'ann@example.com', 'bob.smith+tag@mail.example.org', 'x_y%z@sub-domain.example.co.uk', 'UPPER.Case@example.com',
  'mixed@Example.COM', 'o\'brien@example.com', 'user@jõgeva.ee', 'a-very-long-local-part-that-keeps-going-on.and.on@a-long-subdomain.example-domain.com',
];

function words(r: ReturnType<typeof random>, count: number, otherShare: number) {
  return Array.from({ length: count }, () => (r.next() < otherShare ? r.pick(OTHER_WORDS) : r.pick(ASCII_WORDS))).join(' ');
}

function generated(seed: number): OutgoingMessage {
  const r = random(seed);
  const other = r.pick([0, 0, 0, 0.1, 0.5, 0.9]);
  const lineCount = 1 + r.int(8);
  const breakStyle = r.pick(['\n', '\n', '\r\n']);
  const lines = Array.from({ length: lineCount }, () => {
    const kind = r.int(10);
    if (kind === 0) return '';
    if (kind === 1) return `.${words(r, 2, other)}`; // a dot at the start of a line
    if (kind === 2) return `${words(r, 3, other)}   `; // trailing spaces
    return words(r, 1 + r.int(kind > 7 ? 30 : 10), other); // sometimes longer than 76
  });
  const ending = r.pick(['', breakStyle, '\r']);
  const subject = r.next() < 0.05 ? '' : words(r, 1 + r.int(r.next() < 0.2 ? 25 : 8), other);
  const seq = 1 + r.int(1_000_000);
  const domain = r.next() < 0.1 ? 'a-rather-long-sending-domain-name.mail.example.com' : 'example.com';
  return {
    from: r.pick(FROMS),
    to: r.pick(TOS),
    subject,
    text: lines.join(breakStyle) + ending,
    messageId: `<cg.dep_0123456789.${seq}@${domain}>`,
    headers: { [r.next() < 0.05 ? 'x-campaign-guard-delivery' : 'X-Campaign-Guard-Delivery']: `dep_0123456789.${seq}` },
  };
}

describe('composing a message without MailComposer', () => {
  // MailComposer dates a message itself: both sides see the same clock.
  const date = new Date('2026-12-05T10:11:12.345Z');
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(date);
  });
  afterAll(() => vi.useRealTimers());

  it('gives exactly MailComposer\'s bytes for every message it builds, over thousands of generated ones', async () => {
    const fromLines = new Map<string, string>();
    for (const from of FROMS) fromLines.set(from, await fromLineOf(from));
    let direct = 0;
    const total = 3000;
    for (let seed = 1; seed <= total; seed++) {
      const message = generated(seed);
      const ours = composeDirect(message, date, fromLines.get(message.from)!);
      if (!ours) continue;
      direct++;
      const theirs = await composeWithMailComposer(message);
      if (!ours.equals(theirs)) {
        expect({ seed, ours: ours.toString('utf8') }).toEqual({ seed, ours: theirs.toString('utf8') });
      }
    }
    // About half the generated messages take the direct path: the generator leans on the cases it leaves to MailComposer.
    expect(direct).toBeGreaterThan(total * 0.45);
  });

  it('builds the common cases itself: plain text, non-ASCII subjects and senders, quoted-printable bodies, long lines', async () => {
    const cases: OutgoingMessage[] = [
      buildMessage({ fromAddress: 'Bench <bench@example.com>', subject: 'Hello {{first_name}}', bodyText: 'Hi {{first_name}},\n\nA short message.\n', fieldNames: ['first_name'] }, { deploymentId: 'dep_0123456789', seq: 7, email: 'ann@example.com', fields: ['Ann'] }),
      buildMessage({ fromAddress: 'Bénch <b@example.com>', subject: 'Olá {{first_name}} 🎉', bodyText: 'Olá {{first_name}}, café?', fieldNames: ['first_name'] }, { deploymentId: 'dep_0123456789', seq: 8, email: 'jose@example.com', fields: ['José'] }),
      buildMessage({ fromAddress: 'news@example.com', subject: 'A long subject '.repeat(8), bodyText: 'word '.repeat(60), fieldNames: [] }, { deploymentId: 'dep_0123456789', seq: 9, email: 'bob@example.com', fields: [] }),
    ];
    for (const message of cases) {
      const ours = composeDirect(message, date, await fromLineOf(message.from));
      expect(ours, message.subject).toBeDefined();
      expect(ours!.toString('utf8')).toBe((await composeWithMailComposer(message)).toString('utf8'));
    }
  });

  it('leaves to MailComposer what it does not cover, and the composer still answers for those', async () => {
    const compose = createMessageComposer();
    const base = generated(1);
    const uncovered: OutgoingMessage[] = [
      { ...base, to: 'Mixed@Example.COM' },
      { ...base, to: 'user@jõgeva.ee' },
      { ...base, subject: '' },
      { ...base, text: '' },
      { ...base, text: 'Только кириллица в этом письме' }, // base64
      { ...base, headers: { 'x-campaign-guard-delivery': 'dep_0123456789.1' } },
    ];
    for (const message of uncovered) {
      expect(composeDirect(message, date, await fromLineOf(message.from))).toBeUndefined();
      expect((await compose(message)).equals(await composeWithMailComposer(message))).toBe(true);
    }
  });
});
