import { describe, expect, it } from 'vitest';
import { createLaneSlots, type SlotOwner } from '../../../src/services/sending/lane-slots.js';

/**
 * Lanes that send one message per turn and give their slot back whenever another deployment
 * waits, as send jobs' lanes do: which deployment the slots go to, turn by turn.
 */
async function run(slots: number, owners: { owner: SlotOwner; lanes: number; messages: number }[], turns: number) {
  const laneSlots = createLaneSlots(slots);
  const served: string[] = [];
  let held = 0;
  let mostHeld = 0;
  const left = new Map(owners.map((o) => [o.owner.key, o.messages]));
  const lane = async (owner: SlotOwner) => {
    let holding = false;
    while ((left.get(owner.key) ?? 0) > 0 && served.length < turns) {
      if (!holding) {
        await laneSlots.acquire(owner);
        holding = true;
        held++;
        mostHeld = Math.max(mostHeld, held);
      }
      if ((left.get(owner.key) ?? 0) === 0 || served.length >= turns) break;
      left.set(owner.key, left.get(owner.key)! - 1);
      served.push(owner.key);
      await new Promise((resolve) => setImmediate(resolve)); // the message on the wire
      if (laneSlots.wanted(owner)) {
        holding = false;
        held--;
        laneSlots.release(owner);
      }
    }
    if (holding) {
      held--;
      laneSlots.release(owner);
    }
  };
  await Promise.all(owners.flatMap((o) => Array.from({ length: o.lanes }, () => lane(o.owner))));
  const count = (key: string) => served.filter((k) => k === key).length;
  return { served, count, mostHeld };
}

describe('lane slots shared by deployments', () => {
  it('go to two deployments in turn, whichever came first and however many lanes each has', async () => {
    const big = { key: 'big', weight: 1 };
    const small = { key: 'small', weight: 1 };
    const { count, mostHeld } = await run(4, [{ owner: big, lanes: 8, messages: 10_000 }, { owner: small, lanes: 4, messages: 10_000 }], 2000);
    expect(mostHeld).toBeLessThanOrEqual(4);
    expect(count('small') / 2000).toBeGreaterThan(0.45);
    expect(count('small') / 2000).toBeLessThan(0.55);
  });

  it('follow the weights: high gets twice normal, and low half', async () => {
    const owners = [
      { owner: { key: 'high', weight: 2 }, lanes: 4, messages: 10_000 },
      { owner: { key: 'normal', weight: 1 }, lanes: 4, messages: 10_000 },
      { owner: { key: 'low', weight: 0.5 }, lanes: 4, messages: 10_000 },
    ];
    const { count } = await run(4, owners, 3500);
    expect(count('high') / count('normal')).toBeCloseTo(2, 0);
    expect(count('normal') / count('low')).toBeCloseTo(2, 0);
  });

  it('keep one deployment alone on its slots (no turns to take) and give a newcomer the next free one', async () => {
    const laneSlots = createLaneSlots(2);
    const a = { key: 'a', weight: 1 };
    const b = { key: 'b', weight: 1 };
    await laneSlots.acquire(a);
    await laneSlots.acquire(a);
    expect(laneSlots.wanted(a)).toBe(false);
    let bGot = false;
    void laneSlots.acquire(b).then(() => (bGot = true));
    expect(laneSlots.wanted(a)).toBe(true);
    expect(laneSlots.wanted(b)).toBe(false);
    laneSlots.release(a);
    await Promise.resolve();
    expect(bGot).toBe(true);
    expect(laneSlots.wanted(a)).toBe(false);
  });

  it('serve the lanes of one deployment in the order they asked (its older send job first)', async () => {
    const laneSlots = createLaneSlots(1);
    const a = { key: 'a', weight: 1 };
    await laneSlots.acquire(a);
    const order: string[] = [];
    const first = laneSlots.acquire(a).then(() => order.push('first'));
    const second = laneSlots.acquire(a).then(() => order.push('second'));
    laneSlots.release(a);
    await first;
    laneSlots.release(a);
    await second;
    expect(order).toEqual(['first', 'second']);
  });
});
