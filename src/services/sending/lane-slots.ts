/**
 * A worker's SMTP lanes, shared by the send jobs it has open, fairly between deployments: a lane
 * sends only while it holds a slot, and there are as many slots as transport connections, so
 * outstanding sends (and claimed rows) never exceed them however many jobs are open. A free slot
 * goes to the waiting deployment that has had the least service for its weight (stride
 * scheduling: each grant moves the deployment's pass on by 1/weight; the smallest pass is served
 * next, from a heap, so a grant costs O(log deployments waiting), never a scan). A deployment that
 * starts waiting joins at the current virtual time: it neither owes for nor claims the time it did
 * not wait. Within one deployment, lanes are served in the order they asked, so its older send
 * job goes first. A lane keeps its slot from message to message while no other deployment waits
 * (`wanted`), so one deployment alone runs exactly as before; once another waits, lanes give their
 * slots back after each message and the scheduler hands them out.
 */
export interface SlotOwner {
  /** The deployment: its send jobs share one place in the order. */
  key: string;
  weight: number;
}

export interface LaneSlots {
  acquire(owner: SlotOwner): Promise<void>;
  release(owner: SlotOwner): void;
  /** Another deployment is waiting for a slot: a lane of `owner` should give its slot back now. */
  wanted(owner: SlotOwner): boolean;
}

interface OwnerState {
  key: string;
  weight: number;
  pass: number;
  held: number;
  waiting: (() => void)[];
  queued: boolean;
}

export function createLaneSlots(count: number): LaneSlots {
  let free = count;
  let virtualTime = 0;
  let waitingLanes = 0;
  const owners = new Map<string, OwnerState>();
  const heap: OwnerState[] = [];

  const before = (a: OwnerState, b: OwnerState) => a.pass < b.pass;
  const push = (state: OwnerState) => {
    state.queued = true;
    heap.push(state);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const pop = (): OwnerState => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let least = i;
        if (l < heap.length && before(heap[l]!, heap[least]!)) least = l;
        if (r < heap.length && before(heap[r]!, heap[least]!)) least = r;
        if (least === i) break;
        [heap[i], heap[least]] = [heap[least]!, heap[i]!];
        i = least;
      }
    }
    top.queued = false;
    return top;
  };
  const stateOf = (owner: SlotOwner) => {
    let state = owners.get(owner.key);
    if (!state) {
      state = { key: owner.key, weight: Math.max(owner.weight, 0.001), pass: virtualTime, held: 0, waiting: [], queued: false };
      owners.set(owner.key, state);
    }
    return state;
  };
  // An idle deployment ahead of the virtual time keeps its pass (it had more than its share
  // lately); the others are forgotten, and all are once every slot is free.
  const forgetIfIdle = (state: OwnerState) => {
    if (state.held === 0 && state.waiting.length === 0 && state.pass <= virtualTime) owners.delete(state.key);
  };
  const grant = (state: OwnerState) => {
    virtualTime = Math.max(virtualTime, state.pass);
    state.pass += 1 / state.weight;
    state.held++;
  };

  return {
    acquire(owner) {
      const state = stateOf(owner);
      if (free > 0 && heap.length === 0) {
        free--;
        grant(state);
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        if (!state.queued) {
          state.pass = Math.max(state.pass, virtualTime);
          push(state);
        }
        state.waiting.push(resolve);
        waitingLanes++;
      });
    },
    release(owner) {
      const releasing = owners.get(owner.key);
      if (releasing) {
        releasing.held--;
        forgetIfIdle(releasing);
      }
      if (heap.length === 0) {
        if (++free === count) owners.clear();
        return;
      }
      const next = pop();
      const resolve = next.waiting.shift()!;
      waitingLanes--;
      grant(next);
      if (next.waiting.length > 0) push(next);
      resolve();
    },
    wanted(owner) {
      return waitingLanes - (owners.get(owner.key)?.waiting.length ?? 0) > 0;
    },
  };
}
