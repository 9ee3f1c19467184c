/**
 * A dependency we cannot reach, talk TLS with, or log in to: reported as one line naming the
 * variable that points at it and the cause, not as a stack trace.
 */
export class DependencyUnavailable extends Error {
  constructor(
    readonly dependency: 'Postgres' | 'Redis',
    readonly variable: string,
    cause: unknown,
  ) {
    const where = `${dependency} (${variable})`;
    const lead = { tls: `TLS with ${where} failed`, login: `${where} refused the login`, connection: `cannot reach ${where}` }[failureOf(cause) ?? 'connection'];
    super(`${lead}: ${describe(cause)}`);
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
  '3D000', // database does not exist
  '57P03', // cannot connect now (starting up)
]);

const LOGIN_CODES = new Set(['28P01' /* invalid password */, '28000' /* invalid authorization */]);

/**
 * A certificate that does not verify (OpenSSL's verify codes: SELF_SIGNED_CERT_IN_CHAIN,
 * UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, …), a name it does not cover, or a
 * handshake that failed.
 */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_)|CERT|^UNABLE_TO_|^EPROTO$/;

type Failure = 'tls' | 'login' | 'connection';

/** ioredis's words when no sentinel gave it a master it could reach. */
const SENTINELS_UNREACHABLE = /^All sentinels are unreachable\..*?(?:Last error: (.*))?$/s;

function failureOf(error: unknown): Failure | undefined {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (LOGIN_CODES.has(code)) return 'login';
    if (TLS_CODE.test(code)) return 'tls';
    if (CONNECTION_CODES.has(code)) return 'connection';
  }
  // Redis answers a refused login with a reply, not a code; ioredis gives up on a Sentinel set or
  // a Cluster with an error of its own.
  if (error instanceof Error && /^(WRONGPASS|NOAUTH)\b/.test(error.message)) return 'login';
  if (error instanceof Error && (SENTINELS_UNREACHABLE.test(error.message) || error.name === 'ClusterAllFailedError')) return 'connection';
  const errors = (error as { errors?: unknown[] })?.errors; // AggregateError from a dual-stack connect
  return Array.isArray(errors) ? errors.map(failureOf).find((failure) => failure !== undefined) : undefined;
}

export function isConnectionError(error: unknown): boolean {
  return failureOf(error) !== undefined;
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  if (error instanceof Error && error.name === 'ClusterAllFailedError') {
    const last = (error as { lastNodeError?: unknown }).lastNodeError;
    return `no Cluster node answered${last ? ` (last error: ${describe(last)})` : ''}`;
  }
  const sentinels = error instanceof Error ? SENTINELS_UNREACHABLE.exec(error.message) : null;
  if (sentinels) return `no sentinel named a reachable master${sentinels[1] ? ` (last error: ${sentinels[1].split('\n')[0]})` : ''}`;
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
