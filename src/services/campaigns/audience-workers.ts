import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { validateBlock, type HeaderLayout, type ValidatedBlock } from './audience-rows.js';
import { CsvSyntaxError } from './csv-records.js';

/**
 * Worker threads that validate audience blocks in parallel while the main thread dedupes and
 * streams to Postgres. Started on first use and kept for the life of the service; if a worker
 * cannot start or dies, blocks are validated on the main thread instead (slower, same result).
 */
export type BlockValidator = (bytes: Buffer, layout: HeaderLayout, deploymentCount: number) => Promise<ValidatedBlock>;

export interface BlockRequest {
  id: number;
  bytes: Uint8Array;
  layout: HeaderLayout;
  deploymentCount: number;
}

export type BlockReply =
  | { id: number; result: ValidatedBlock }
  | { id: number; csvError: { message: string; lineNo: number } }
  | { id: number; error: string };

const decoder = new TextDecoder('utf-8', { fatal: false });

export const validateInline: BlockValidator = async (bytes, layout, deploymentCount) =>
  validateBlock(decoder.decode(bytes), layout, deploymentCount);

// Validation allocates many short-lived strings; a larger young generation means fewer scavenges.
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 96 };

function spawn(): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // Running from source (tsx, vitest): the worker registers the TypeScript loader first.
    const target = new URL('./audience-worker.ts', here).href;
    return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(target)}); })`, { eval: true, resourceLimits: WORKER_LIMITS });
  }
  return new Worker(new URL('./audience-worker.js', here), { resourceLimits: WORKER_LIMITS });
}

export function createAudienceWorkerPool(size = Math.min(2, availableParallelism())) {
  let workers: Worker[] | undefined;
  let broken = false;
  let nextId = 0;
  let turn = 0;
  const waiting = new Map<number, { resolve: (block: ValidatedBlock) => void; reject: (error: Error) => void; worker: Worker }>();

  const start = () => {
    workers = Array.from({ length: size }, () => {
      const worker = spawn();
      worker.unref();
      worker.on('message', (reply: BlockReply) => {
        const entry = waiting.get(reply.id);
        if (!entry) return;
        waiting.delete(reply.id);
        if ('result' in reply) entry.resolve(reply.result);
        else if ('csvError' in reply) entry.reject(new CsvSyntaxError(reply.csvError.message, reply.csvError.lineNo));
        else entry.reject(new Error(reply.error));
      });
      worker.on('error', (error) => {
        broken = true;
        for (const [id, entry] of waiting) {
          if (entry.worker !== worker) continue;
          waiting.delete(id);
          entry.reject(error);
        }
      });
      return worker;
    });
  };

  const validate: BlockValidator = (bytes, layout, deploymentCount) => {
    if (broken || size < 1) return validateInline(bytes, layout, deploymentCount);
    if (!workers) start();
    const worker = workers![turn++ % workers!.length]!;
    const id = ++nextId;
    const copy = new Uint8Array(bytes); // its own buffer, so it can be transferred
    return new Promise<ValidatedBlock>((resolve, reject) => {
      waiting.set(id, { resolve, reject, worker });
      const request: BlockRequest = { id, bytes: copy, layout, deploymentCount };
      worker.postMessage(request, [copy.buffer]);
    });
  };

  return {
    validate,
    async close() {
      const running = workers ?? [];
      workers = undefined;
      await Promise.all(running.map((worker) => worker.terminate()));
    },
  };
}

export type AudienceWorkerPool = ReturnType<typeof createAudienceWorkerPool>;
