import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema/index.js';
import { postgresConnection } from './tls.js';

export type Database = PostgresJsDatabase<typeof schema>;
/** A database or a transaction: query functions take either, so services compose them in one transaction. */
export type Executor = Database | Parameters<Parameters<Database['transaction']>[0]>[0];

/** The raw postgres.js client or a transaction of it, for set-based SQL that drizzle cannot express. */
export type SqlExecutor = postgres.Sql | postgres.TransactionSql;

export interface DatabaseHandle {
  db: Database;
  sql: postgres.Sql;
  close(): Promise<void>;
}

/**
 * Seconds before a connection tries again after failing: 50 ms doubling to at most 0.5 s, with
 * jitter. Until then postgres.js answers a query at once with the connect error (so a responder
 * hears "cannot … right now" rather than waiting), and the process serves again within half a
 * second of Postgres coming back; its default grows to 20 s.
 */
export function reconnectDelaySeconds(failures: number): number {
  return Math.min(0.05 * 2 ** Math.max(0, failures - 1), 0.5) * (0.5 + Math.random() / 2);
}

const TIMESTAMP_TYPES = [1082, 1114, 1184]; // date, timestamp, timestamptz
const TIMESTAMP_ARRAY_TYPES = [1182, 1115, 1185];

const timestampText = (value: unknown) => (value instanceof Date ? value.toISOString() : value);
const arrayElement = (value: unknown) => (value === null || value === undefined ? 'NULL' : `"${String(timestampText(value)).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);

/**
 * drizzle's postgres.js driver makes the timestamp types' serializers hand values on as they are
 * (drizzle turns its own dates into text first), and postgres.js 4 sends what a serializer returns
 * as it is: a Date, or an array for a `timestamptz[]` parameter, in our own SQL would reach the
 * wire unwritten. These write a Date as ISO text and an array as an array literal, and hand text
 * (all drizzle sends) on unchanged. `options.serializers` is postgres.js's public table of them,
 * shared by a pool and its transactions, so they are set again every time drizzle is put on it.
 */
function drizzleOn(sql: postgres.Sql): Database {
  const db = drizzle(sql, { schema, casing: 'snake_case' });
  for (const oid of TIMESTAMP_TYPES) sql.options.serializers[oid] = timestampText;
  for (const oid of TIMESTAMP_ARRAY_TYPES) {
    sql.options.serializers[oid] = (value: unknown) => (Array.isArray(value) ? `{${value.map(arrayElement).join(',')}}` : timestampText(value));
  }
  return db;
}

export function connectDatabase(databaseUrl: string, options: { max?: number; applicationName?: string } = {}): DatabaseHandle {
  const { url, ssl } = postgresConnection(databaseUrl);
  const sql = postgres(url, {
    max: options.max ?? 10,
    ssl,
    onnotice: () => {},
    connect_timeout: 10,
    backoff: reconnectDelaySeconds,
    connection: { application_name: options.applicationName ?? 'campaign-guard' },
  });
  const db = drizzleOn(sql);
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

/**
 * connectDatabase, once the pool has answered a first query: a process learns at start, in one
 * line, that Postgres cannot be reached or refuses its login, rather than at its first job.
 */
export async function openDatabase(url: string, options: { max?: number; applicationName?: string } = {}): Promise<DatabaseHandle> {
  const handle = connectDatabase(url, options);
  try {
    await handle.sql`select 1`;
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  return handle;
}

/**
 * A transaction that exposes both drizzle (for the query functions) and the raw postgres.js
 * handle (for COPY streaming), on the same connection.
 */
export async function inTransaction<T>(
  handle: DatabaseHandle,
  fn: (tx: Database, sql: postgres.TransactionSql) => Promise<T>,
): Promise<T> {
  return (await handle.sql.begin((tsql) => {
    // drizzle reads the parser options from the client; a transaction handle shares its pool's.
    const client = Object.assign(tsql, { options: handle.sql.options }) as unknown as postgres.Sql;
    return fn(drizzleOn(client), tsql);
  })) as T;
}
