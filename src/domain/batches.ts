/**
 * Splits a deployment's audience (seq 1..total) into `count` contiguous batches whose send times
 * are `intervalMs` apart. Earlier batches take the remainder, so sizes differ by at most one.
 */
export interface BatchPlan {
  position: number;
  firstSeq: number;
  lastSeq: number;
  total: number;
  sendAt: Date | null;
}

export function planBatches(total: number, count: number, sendAt: Date | null, intervalMs: number): BatchPlan[] {
  const plans: BatchPlan[] = [];
  let next = 1;
  for (let i = 0; i < count; i++) {
    const size = Math.floor(total / count) + (i < total % count ? 1 : 0);
    plans.push({
      position: i + 1,
      firstSeq: next,
      lastSeq: next + size - 1,
      total: size,
      sendAt: sendAt ? new Date(sendAt.getTime() + i * intervalMs) : null,
    });
    next += size;
  }
  return plans;
}
