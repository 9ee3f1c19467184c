import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDeliveryTag } from '../../../src/domain/message.js';
import { startSmtpSink, type SmtpSink } from '../../../src/mail/sink.js';
import { createSmtpTransport } from '../../../src/mail/transport.js';
import type { Transport } from '../../../src/services/ports.js';
import { RECIPIENTS_PER_SEND_JOB } from '../../../src/domain/send-jobs.js';
import { audienceCsv, createCampaignOrThrow } from '../../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { deploymentRow, startWorker, testConfig, waitFor } from '../../support/sending.js';

/**
 * A worker keeps two send jobs open, so the next one starts as the current one runs out of
 * recipients; its lanes share the worker's slots, so what is on the wire never exceeds the
 * transport's connections, however the jobs overlap.
 */
let db: TestDatabase;
let sink: SmtpSink;
beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink({ faultFor: (rcpt) => (rcpt.endsWith('7@example.com') ? { delayMs: 20 } : undefined) });
});
afterAll(async () => {
  await sink.close();
  await db.drop();
});

describe('send jobs open at once in one worker', () => {
  it('overlap at their ends, and never put more messages on the wire than the connections', async () => {
    const connections = 4;
    const smtp = createSmtpTransport({ url: sink.url, connections });
    let onWire = 0;
    let mostOnWire = 0;
    const jobsOnWire = new Map<number, number>();
    let overlaps = 0;
    const counting: Transport = {
      connections,
      close: () => smtp.close(),
      check: (timeoutMs) => smtp.check(timeoutMs),
      async send(message, gate) {
        const job = Math.floor((parseDeliveryTag(message.headers['X-Campaign-Guard-Delivery']!)!.seq - 1) / RECIPIENTS_PER_SEND_JOB);
        onWire++;
        mostOnWire = Math.max(mostOnWire, onWire);
        jobsOnWire.set(job, (jobsOnWire.get(job) ?? 0) + 1);
        if (jobsOnWire.size > 1) overlaps++;
        try {
          return await smtp.send(message, gate);
        } finally {
          onWire--;
          if (jobsOnWire.get(job) === 1) jobsOnWire.delete(job);
          else jobsOnWire.set(job, jobsOnWire.get(job)! - 1);
        }
      },
    };
    const worker = await startWorker(db, testConfig(db, { SMTP_URL: sink.url, SEND_CONCURRENCY: String(connections) }), { transport: counting });
    try {
      const { deploymentIds } = await createCampaignOrThrow(db, { csv: audienceCsv(4 * RECIPIENTS_PER_SEND_JOB) });
      const deploymentId = deploymentIds[0]!;
      await waitFor(async () => (await deploymentRow(db, deploymentId)).status === 'completed', { what: 'completion' });
      expect(await deploymentRow(db, deploymentId)).toMatchObject({ sent_count: 4 * RECIPIENTS_PER_SEND_JOB, in_flight_count: 0 });
      expect(mostOnWire).toBe(connections);
      expect(overlaps, 'the next job started before the last one had ended').toBeGreaterThan(0);
    } finally {
      await worker.stop();
    }
  });
});
