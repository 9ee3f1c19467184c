import { z } from 'zod';
import type { BatchJob, PrefetchJob, SendJob } from '../domain/send-jobs.js';

/**
 * Queue names and the validation of job payloads as they come off Redis (the job model itself is
 * `domain/send-jobs.ts`). A payload that does not parse is not retried: see `malformedPayload`.
 */
export const QUEUES = { prefetch: 'prefetch', batches: 'batches', send: 'send' } as const;

export const prefetchJob: z.ZodType<PrefetchJob> = z.object({ deploymentId: z.string() });

export const batchJob: z.ZodType<BatchJob> = z.object({ batchId: z.string(), deploymentId: z.string(), generation: z.number().int() });

export const sendJob: z.ZodType<SendJob> = z.object({
  deploymentId: z.string(),
  batchId: z.string(),
  fromSeq: z.number().int(),
  toSeq: z.number().int(),
  generation: z.number().int(),
  lastSeq: z.number().int().optional(),
});
