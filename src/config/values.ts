import { createPublicKey } from 'node:crypto';
import { z } from 'zod';

/**
 * The kinds of value an environment variable holds (whole numbers in a range, rates, booleans,
 * URLs checked by their own parser, patterns), each a zod schema whose message is what the
 * one-line configuration error says after the variable's name. Blank counts as unset.
 */

export const blankToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

export const urlWithProtocols = (protocols: string[], example: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .refine((value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      }, `must be a URL like ${example}`)
      .optional(),
  );

/** A URL checked by its own parser (no I/O), whose problem is reported as is (never with the value). */
export const parsedUrl = <T>(check: (value: string) => T | { problem: string }) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .superRefine((value, context) => {
        const result = check(value);
        if (result && typeof result === 'object' && 'problem' in result) context.addIssue({ code: 'custom', message: result.problem });
      })
      .optional(),
  );

export const integer = (min: number, max: number, fallback: number) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
      .transform(Number)
      .refine((n) => n >= min && n <= max, `must be a whole number between ${min} and ${max}`)
      .optional()
      .transform((n) => n ?? fallback),
  );

export const positiveNumber = (fallback: number) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a positive number')
      .transform(Number)
      .refine((n) => n > 0, 'must be a positive number')
      .optional()
      .transform((n) => n ?? fallback),
  );

/** Rates are accepted as a fraction (0.05) or a percentage (5%); a bare 5 is ambiguous and refused. */
export function parseRate(text: string): number | undefined {
  if (!/^\d+(\.\d+)?%?$/.test(text)) return undefined;
  const value = text.endsWith('%') ? Number(text.slice(0, -1)) / 100 : Number(text);
  return value > 0 && value <= 1 ? value : undefined;
}

const RATE_PROBLEM = 'must be a fraction between 0 and 1 (like 0.05) or a percentage (like 5%)';

export const rate = (fallback: number) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d+(\.\d+)?%?$/, 'must be a fraction like 0.05 or a percentage like 5%')
      .refine((text) => parseRate(text) !== undefined, RATE_PROBLEM)
      .transform((text) => parseRate(text)!)
      .optional()
      .transform((n) => n ?? fallback),
  );

export const boolean = (fallback: boolean) =>
  z.preprocess(
    blankToUndefined,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
      .transform((v) => v === 'true' || v === '1' || v === 'yes')
      .optional()
      .transform((v) => v ?? fallback),
  );

export const optionalMatching = (pattern: RegExp, message: string) =>
  z.preprocess(blankToUndefined, z.string().regex(pattern, message).optional());

export const base64SpkiPublicKey = z.preprocess(
  blankToUndefined,
  z
    .string()
    .refine((value) => {
      try {
        createPublicKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'spki' });
        return /^[A-Za-z0-9+/=\s]+$/.test(value);
      } catch {
        return false;
      }
    }, 'must be the base64 public key from SendGrid (Settings → Mail Settings → Signed Event Webhook)')
    .optional(),
);
