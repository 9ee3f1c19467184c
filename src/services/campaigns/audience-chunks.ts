import { once } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * Writes `audience_chunks` rows as COPY text. A chunk is a piece of up to CHUNK_SIZE consecutive
 * recipients of one deployment, already joined by the validator; the writer numbers chunks and
 * recipients (seq) per deployment, in file order.
 */
export function createChunkWriter(copy: Writable, deploymentIds: string[]) {
  const nextChunk = deploymentIds.map(() => 0);
  const seqs = deploymentIds.map(() => 0);
  let pending = '';

  return {
    /** Adds `count` recipients to a deployment: addresses and COPY-escaped field lines (db/field-line), joined by `\n`. */
    addPiece(deployment: number, count: number, emails: string, fields: string) {
      pending += `${deploymentIds[deployment]}\t${nextChunk[deployment]!++}\t${seqs[deployment]! + 1}\t${count}\t${emails}\t${fields}\n`;
      seqs[deployment]! += count;
    },
    /** Lets COPY catch up when enough text is buffered; call between blocks. */
    async drain(force = false) {
      if (pending.length >= 256 * 1024 || (force && pending)) {
        const text = pending;
        pending = '';
        if (!copy.write(text)) await once(copy, 'drain');
      }
    },
    finish() {
      return this.drain(true);
    },
    totals: () => [...seqs],
    imported: () => seqs.reduce((a, b) => a + b, 0),
  };
}
