import { parentPort } from 'node:worker_threads';
import { validateBlock } from './audience-rows.js';
import type { BlockReply, BlockRequest } from './audience-workers.js';
import { CsvSyntaxError } from './csv-records.js';

/** Worker-thread entry: validates one block per message and sends the columns back. */
const decoder = new TextDecoder('utf-8', { fatal: false });

parentPort!.on('message', (request: BlockRequest) => {
  let reply: BlockReply;
  try {
    const result = validateBlock(decoder.decode(request.bytes), request.layout, request.deploymentCount);
    reply = { id: request.id, result };
    const columns = [result.hashHi, result.hashLo, result.lineOffsets, result.emailLengths, result.fieldLengths, result.fileOrder];
    parentPort!.postMessage(reply, columns.map((column) => column.buffer as ArrayBuffer));
    return;
  } catch (error) {
    reply =
      error instanceof CsvSyntaxError
        ? { id: request.id, csvError: { message: error.detail, lineNo: error.lineNo } }
        : { id: request.id, error: String((error as Error)?.message ?? error) };
  }
  parentPort!.postMessage(reply);
});
