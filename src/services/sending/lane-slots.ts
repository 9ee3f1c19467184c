/**
 * A worker's SMTP lanes, shared by the send jobs it runs at once: a lane sends only while it holds
 * a slot, and there are as many slots as transport connections, so outstanding sends (and claimed
 * rows) never exceed them however many jobs are open. Slots go to waiting lanes in the order they
 * asked: the next job's lanes start as the current job's lanes run out of recipients, and its
 * setup (reading its content and its pending rows) was done while they waited.
 */
export interface LaneSlots {
  acquire(): Promise<void>;
  release(): void;
}

export function createLaneSlots(count: number): LaneSlots {
  let free = count;
  const waiting: (() => void)[] = [];
  return {
    acquire() {
      if (free > 0) {
        free--;
        return Promise.resolve();
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}
