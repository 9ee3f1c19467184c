import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema/index.js';

export type Database = PostgresJsDatabase<typeof schema>;
/** A database or a transaction: query functions take either, so services compose them in one transaction. */
export type Executor = Database | Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DatabaseHandle {
  db: Database;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export function connectDatabase(url: string, options: { max?: number; applicationName?: string } = {}): DatabaseHandle {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connect_timeout: 10,
    connection: { application_name: options.applicationName ?? 'campaign-guard' },
  });
  const db = drizzle(sql, { schema, casing: 'snake_case' });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
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
    return fn(drizzle(client, { schema, casing: 'snake_case' }), tsql);
  })) as T;
}
