import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import mimeFuncs from 'nodemailer/lib/mime-funcs/index.js';
import qp from 'nodemailer/lib/qp/index.js';
import type { OutgoingMessage } from '../domain/message.js';

/**
 * A message as the bytes nodemailer's MailComposer would give for it, built without it when that
 * can be done exactly. MailComposer builds a tree of MIME nodes and streams it through four
 * transforms for every message; that was a third of the sender's CPU per message. A campaign's
 * messages are one plain-text part each, so the header lines are built here with nodemailer's own
 * encoders (the same calls, in the same order, as its MimeNode makes), the From line, the same for
 * every message of a campaign, is taken from MailComposer's own output once per sender, and the
 * body is the text as it is (7bit) or nodemailer's quoted-printable. Whatever is not covered
 * exactly (a recipient address with a name, quotes or a non-ASCII domain; a body that would need
 * base64; an empty subject or body) goes to MailComposer. A test holds the two byte-equal over
 * thousands of generated messages.
 */
export type MessageComposer = (message: OutgoingMessage) => Promise<Buffer>;

const LINE = 76;
// Local parts and domains that nodemailer's address parser and its punycode step leave as they are.
const PLAIN_ADDRESS = /^[A-Za-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*$/;
// Header names MimeNode's key normalisation leaves as they are (`X-Campaign-Guard-Delivery`).
const PLAIN_HEADER_KEY = /^X(?:-[A-Z][a-z]+)+$/;
const LINE_BREAKS = /\r?\n|\r/g;

// Its typings leave out the fourth parameter (encode every word), which MimeNode passes.
const { encodeWords } = mimeFuncs as unknown as { encodeWords: (value: string, encoding: 'Q' | 'B', maxLength: number, encodeAll: boolean) => string };

export function composeWithMailComposer(message: OutgoingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    new MailComposer({
      from: message.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      messageId: message.messageId,
      headers: message.headers,
    })
      .compile()
      .build((error, body) => (error ? reject(error) : resolve(body)));
  });
}

/** MimeNode's choice between quoted-printable and base64 for text: more Latin letters than other symbols → Q. */
function textEncoding(value: string): 'Q' | 'B' {
  // eslint-disable-next-line no-control-regex
  const nonLatin = (value.match(/[\x00-\x08\x0B\x0C\x0E-\x1F\u0080-\uFFFF]/g) ?? []).length;
  const latin = (value.match(/[a-z]/gi) ?? []).length;
  return nonLatin < latin ? 'Q' : 'B';
}

/** An unstructured header (Subject, our own X- headers) as MimeNode writes it; undefined when it would leave it out. */
function unstructuredLine(key: string, value: string): string | undefined {
  const flat = value.replace(LINE_BREAKS, ' ');
  const encoded = encodeWords.call(mimeFuncs, flat, textEncoding(flat), 52, true);
  return encoded.trim() ? mimeFuncs.foldLines(`${key}: ${encoded}`, LINE) : undefined;
}

function messageIdLine(value: string): string {
  let id = value.replace(LINE_BREAKS, ' ');
  if (!id.startsWith('<')) id = `<${id}`;
  if (!id.endsWith('>')) id = `${id}>`;
  return mimeFuncs.foldLines(`Message-ID: ${id}`, LINE);
}

/** The body and its transfer encoding, as MimeNode streams a text part; undefined for base64. */
function textBody(text: string): { encoding: string; body: string } | undefined {
  let encoding: string;
  let body: string;
  if (mimeFuncs.isPlainText(text) && !mimeFuncs.hasLongerLines(text, LINE)) {
    encoding = '7bit';
    body = text;
  } else if (textEncoding(text) === 'Q') {
    encoding = 'quoted-printable';
    body = qp.wrap(qp.encode(Buffer.from(text, 'utf8')), LINE);
  } else {
    return undefined;
  }
  // MimeNode ends every message with a line break.
  const last = body.at(-1);
  if (last === '\r') body += '\n';
  else if (last !== '\n') body += '\r\n';
  return { encoding, body };
}

/** The From header line(s) MailComposer writes for `from`, read off one message it composed. */
export async function fromLineOf(from: string): Promise<string> {
  const sample = (await composeWithMailComposer({ from, to: 'sample@example.com', subject: 'sample', text: 'sample', messageId: '<sample@example.com>', headers: {} })).toString('utf8');
  const head = sample.slice(0, sample.indexOf('\r\n\r\n')).split('\r\n');
  const start = head.findIndex((line) => line.startsWith('From: '));
  if (start < 0) throw new Error('MailComposer wrote no From header');
  let end = start + 1;
  while (end < head.length && /^[ \t]/.test(head[end]!)) end++;
  return head.slice(start, end).join('\r\n');
}

/**
 * The message built directly, given its sender's From line; undefined when it is not one this
 * covers exactly (MailComposer builds those).
 */
export function composeDirect(message: OutgoingMessage, date: Date, fromLine: string): Buffer | undefined {
  if (!message.text || !PLAIN_ADDRESS.test(message.to)) return undefined;
  const text = textBody(message.text);
  const subject = unstructuredLine('Subject', message.subject);
  const custom = Object.entries(message.headers).map(([key, value]) => (PLAIN_HEADER_KEY.test(key) ? unstructuredLine(key, value) : undefined));
  if (!text || !subject || custom.some((line) => line === undefined)) return undefined;
  const head = [
    ...custom,
    fromLine,
    mimeFuncs.foldLines(`To: ${message.to}`, LINE),
    subject,
    messageIdLine(message.messageId),
    `Content-Transfer-Encoding: ${text.encoding}`,
    `Date: ${date.toUTCString().replace(/GMT/, '+0000')}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
  ];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${text.body}`, 'utf8');
}

export function createMessageComposer(): MessageComposer {
  // One sender per campaign: a handful of entries, whatever the volume.
  const fromLines = new Map<string, Promise<string>>();
  const fromLine = (from: string) => {
    let line = fromLines.get(from);
    if (!line) {
      if (fromLines.size >= 1000) fromLines.clear();
      line = fromLineOf(from);
      line.catch(() => fromLines.delete(from));
      fromLines.set(from, line);
    }
    return line;
  };

  return async function compose(message) {
    const from = await fromLine(message.from);
    return composeDirect(message, new Date(), from) ?? composeWithMailComposer(message);
  };
}
