import { ok, refused, type Result } from './result.js';

/**
 * A campaign's share of the send capacity when deployments send at once: workers' lanes and the
 * global rate go to the sending deployments in proportion to their campaigns' weights (`normal`
 * for all by default, so all alike). `high` gets twice what `normal` gets, `low` half; a number
 * is a weight on the same scale (normal = 1).
 */
export const SEND_PRIORITIES = { high: 2, normal: 1, low: 0.5 } as const;
export type SendPriority = keyof typeof SEND_PRIORITIES;
export const DEFAULT_SEND_WEIGHT = SEND_PRIORITIES.normal;
export const SEND_WEIGHT_LIMITS = { min: 0.1, max: 100 } as const;

export function parseSendPriority(text: string): Result<number, 'invalid'> {
  const name = text.trim().toLowerCase();
  if (name in SEND_PRIORITIES) return ok(SEND_PRIORITIES[name as SendPriority]);
  const weight = /^\d{1,3}(\.\d{1,2})?$/.test(name) ? Number(name) : NaN;
  if (!(weight >= SEND_WEIGHT_LIMITS.min && weight <= SEND_WEIGHT_LIMITS.max)) {
    return refused('invalid', `--priority must be high, normal, low or a weight from ${SEND_WEIGHT_LIMITS.min} to ${SEND_WEIGHT_LIMITS.max} (normal = 1)`);
  }
  return ok(weight);
}

/** How a weight is shown: its name when it has one, else `weight N`. */
export function sendPriorityLabel(weight: number): string {
  const named = (Object.keys(SEND_PRIORITIES) as SendPriority[]).find((p) => SEND_PRIORITIES[p] === weight);
  return named ?? `weight ${weight}`;
}
