/** Exit codes: scripts distinguish a refusal (1) from a usage or configuration error (2). */
/** 69 (EX_UNAVAILABLE): a dependency is down; retrying later may work. */
export const EXIT = { ok: 0, refused: 1, usage: 2, unavailable: 69, internal: 70 } as const;

/** An expected, explained failure of a command: printed as one line, no stack trace. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}
