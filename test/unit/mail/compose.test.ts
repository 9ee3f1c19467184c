import { describe, expect, it } from 'vitest';
import { composeMessage } from '../../../src/mail/compose.js';
import type { OutgoingMessage } from '../../../src/domain/message.js';

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

describe('composing a message', () => {
  it('gives every generated message the headers the ledger and the feedback path rely on, and a body that ends in a line break', async () => {
    for (let seed = 1; seed <= 500; seed++) {
      const message = generated(seed);
      const text = (await composeMessage(message)).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      expect(split, `seed ${seed}`).toBeGreaterThan(0);
      const head = text.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
      expect(head, `seed ${seed}`).toContain(`Message-ID: ${message.messageId}`);
      expect(head, `seed ${seed}`).toMatch(/^X-Campaign-Guard-Delivery: dep_0123456789\.\d+$/im);
      expect(head, `seed ${seed}`).toMatch(/^Content-Type: text\/plain\b/m);
      expect(head, `seed ${seed}`).toMatch(/^MIME-Version: 1\.0$/m);
      expect(text.endsWith('\n'), `seed ${seed}`).toBe(true);
      // No line over SMTP's 998 characters (the connection turns bare line feeds into CRLF on the wire).
      expect(Math.max(...text.split('\r\n').map((line) => line.length)), `seed ${seed}`).toBeLessThanOrEqual(998);
    }
  });
});
