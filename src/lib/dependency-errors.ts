/**
 * A dependency we cannot reach or log in to: reported as one line naming the variable that
 * points at it, not as a stack trace.
 */
export class DependencyUnavailable extends Error {
  constructor(
    readonly dependency: 'Postgres' | 'Redis',
    readonly variable: string,
    cause: unknown,
  ) {
    super(`cannot reach ${dependency} (${variable}): ${describe(cause)}`);
    this.name = 'DependencyUnavailable';
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '28P01', // invalid password
  '28000', // invalid authorization
  '3D000', // database does not exist
  '57P03', // cannot connect now (starting up)
]);

export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  const errors = (error as { errors?: unknown[] })?.errors; // AggregateError from a dual-stack connect
  return Array.isArray(errors) && errors.some(isConnectionError);
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

export async function reachable<T>(dependency: 'Postgres' | 'Redis', variable: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (isConnectionError(error)) throw new DependencyUnavailable(dependency, variable, error);
    throw error;
  }
}

/** A dependency that answers but is set up so that it would lose our data: refused at start, in one line. */
export class DependencyMisconfigured extends Error {
  constructor(
    readonly dependency: 'Postgres' | 'Redis',
    readonly variable: string,
    problem: string,
  ) {
    super(`${dependency} (${variable}) ${problem}`);
    this.name = 'DependencyMisconfigured';
  }
}

/**
 * A full disk, wherever it was met, as the error that says so: Postgres's disk_full (53100), the
 * OS's ENOSPC, or a message naming it (a Postgres FATAL read from its log, Redis refusing to
 * append). Looked for in wrapped causes too (drizzle wraps a failed query's error).
 */
export function diskFullError(error: unknown, depth = 0): Error | undefined {
  if (!error || typeof error !== 'object' || depth > 5) return undefined;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown[] };
  const cause = diskFullError(e.cause, depth + 1) ?? (Array.isArray(e.errors) ? e.errors.map((x) => diskFullError(x, depth + 1)).find(Boolean) : undefined);
  if (cause) return cause;
  if (e.code === '53100' || e.code === 'ENOSPC') return error as Error;
  return typeof e.message === 'string' && /no space left on device/i.test(e.message) ? (error as Error) : undefined;
}

/** The one line a command prints (and a log says) for a full disk. */
export function diskFullMessage(error: Error): string {
  return `the disk is full (${describe(error)}): free space where Postgres and Redis keep their data (under DATA_DIR for the embedded servers), then retry; the command did not finish`;
}
