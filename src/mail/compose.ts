import MailComposer from 'nodemailer/lib/mail-composer';
import type { OutgoingMessage } from '../domain/message.js';

/**
 * A message as bytes, composed by nodemailer's MailComposer (its documented public API). A direct
 * composer built on nodemailer's internal encoders used to stand here; against a relay answering
 * in 5–50 ms, as real ones do, it made no difference to throughput (the README's send figures),
 * so the public API it is.
 */
export type MessageComposer = (message: OutgoingMessage) => Promise<Buffer>;

export const composeMessage: MessageComposer = (message) =>
  new Promise((resolve, reject) => {
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
