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
