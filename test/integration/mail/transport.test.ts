import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMessage, parseDeliveryTag } from '../../../src/domain/message.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { createSmtpTransport } from '../../../src/mail/transport.js';
import type { Transport } from '../../../src/services/ports.js';
import { freePort } from '../../../src/lib/processes.js';

let sink: SmtpSink;
let transport: Transport;
const content = { fromAddress: 'News <news@example.com>', subject: 'Hi {{first_name}}', bodyText: 'Hello {{first_name}} <{{email}}>', fieldNames: ['first_name'] };
const message = (email: string, seq: number, name = 'Ann') => buildMessage(content, { deploymentId: 'dep_0123456789', seq, email, fields: [name] });

beforeAll(async () => {
  sink = await startSmtpSink({
    faultFor: (rcpt) => {
      if (rcpt.startsWith('hard')) return { rejectRcpt: { code: 550, message: '5.1.1 no such user' } };
      if (rcpt.startsWith('soft')) return { rejectRcpt: { code: 451, message: '4.7.1 try later' } };
      if (rcpt.startsWith('drop')) return { closeAfterData: true };
      if (rcpt.startsWith('slow')) return { delayMs: 300 };
      return undefined;
    },
  });
  transport = createSmtpTransport({ url: sink.url, connections: 3 });
});
afterAll(async () => {
  await transport.close();
  await sink.close();
});

describe('SMTP transport against the sink', () => {
  it('sends, with a deterministic Message-ID, the delivery header and merged fields', async () => {
    const result = await transport.send(message('ok@example.com', 1));
    expect(result).toMatchObject({ outcome: 'sent', code: 250 });
    const got = sink.received.at(-1)!;
    expect(got.messageId).toBe('<cg.dep_0123456789.1@example.com>');
    expect(got.delivery).toBe('dep_0123456789.1');
    expect(parseDeliveryTag(got.messageId!)).toEqual({ deploymentId: 'dep_0123456789', seq: 1 });
  });

  it('classifies 550 at RCPT as bounced, 451 as transient, a drop after DATA as unknown', async () => {
    expect(await transport.send(message('hard@example.com', 2))).toMatchObject({ outcome: 'bounced', code: 550 });
    expect(await transport.send(message('soft@example.com', 3))).toMatchObject({ outcome: 'transient', code: 451 });
    expect(await transport.send(message('drop@example.com', 4))).toMatchObject({ outcome: 'unknown' });
    // the pool recovers: the next message goes out on a fresh connection
    expect(await transport.send(message('ok2@example.com', 5))).toMatchObject({ outcome: 'sent' });
    expect(sink.byDelivery.get('dep_0123456789.2')).toBeUndefined();
    expect(sink.byDelivery.get('dep_0123456789.4')).toBe(1);
  });

  it('keeps several messages on the wire at once, up to its connections', async () => {
    const started = Date.now();
    const results = await Promise.all([6, 7, 8].map((seq) => transport.send(message(`slow${seq}@example.com`, seq))));
    expect(results.every((r) => r.outcome === 'sent')).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500); // 3 × (300 + 300) ms in parallel, not in series
  });

  it("reports a refused connection as the relay's fault, in words (nothing was sent, nothing about the recipient)", async () => {
    const nowhere = createSmtpTransport({ url: `smtp://127.0.0.1:${await freePort()}`, connections: 1, timeouts: { connectionMs: 1000 } });
    expect(await nowhere.send(message('ok@example.com', 9))).toMatchObject({ outcome: 'relay', cause: expect.stringMatching(/^relay refused the connection: connect ECONNREFUSED/) });
    expect(await nowhere.check(1000)).toEqual({ ok: false, cause: expect.stringMatching(/^relay refused the connection/) });
    await nowhere.close();
  });

  it('checks the relay with a session of its own', async () => {
    expect(await transport.check(2000)).toEqual({ ok: true });
  });

  it('keeps CR/LF in merge values out of the subject', async () => {
    const built = message('x@example.com', 10, 'Eve\r\nBcc: victim@example.com');
    expect(built.subject).toBe('Hi Eve Bcc: victim@example.com');
    expect(built.text).toContain('Hello Eve\r\nBcc: victim@example.com <x@example.com>');
  });

  describe('with a gate on the end of data', () => {
    const delivered = (seq: number) => sink.received.filter((m) => m.delivery === `dep_0123456789.${seq}`).length;
    const after = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

    it('completes the message once the gate opens', async () => {
      expect(await transport.send(message('gated@example.com', 20), after(50, true))).toMatchObject({ outcome: 'sent', code: 250 });
      expect(delivered(20)).toBe(1);
    });

    it('withdraws it when the gate closes: nothing delivered, and the next message goes out', async () => {
      expect(await transport.send(message('gated@example.com', 21), after(50, false))).toMatchObject({ outcome: 'withdrawn' });
      expect(await transport.send(message('gated@example.com', 22))).toMatchObject({ outcome: 'sent' });
      expect([delivered(21), delivered(22)]).toEqual([0, 1]);
    });

    it('a connection lost while the gate is still shut is transient, never unknown: the server cannot have accepted it', async () => {
      const impatient = createSmtpTransport({ url: sink.url, connections: 1, timeouts: { socketMs: 200 } });
      try {
        expect(await impatient.send(message('gated@example.com', 23), after(800, true))).toMatchObject({ outcome: 'transient' });
        expect(delivered(23)).toBe(0);
      } finally {
        await impatient.close();
      }
    });
  });
});
