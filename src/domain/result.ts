/**
 * Expected outcomes are values, not exceptions: a refused cancel or an unknown id is part of the
 * product's normal conversation with a responder, and the adapter (Slack, CLI) renders it.
 */
export type Ok<T> = { readonly ok: true; readonly value: T };
export type Refused<C extends string = string> = {
  readonly ok: false;
  readonly code: C;
  /** One sentence a responder can act on; safe to show after escaping. */
  readonly reason: string;
};
export type Result<T, C extends string = string> = Ok<T> | Refused<C>;

export const ok = <T>(value: T): Ok<T> => ({ ok: true, value });
export const refused = <C extends string>(code: C, reason: string): Refused<C> => ({
  ok: false,
  code,
  reason,
});
