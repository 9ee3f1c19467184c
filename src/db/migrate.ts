import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { postgresConnection } from './tls.js';

// Arbitrary constant shared by every process of this service: serializes concurrent migrations.
const MIGRATION_LOCK = 7_301_202_611;

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Applies pending migrations; safe to call from several processes starting at once. */
export async function runMigrations(databaseUrl: string): Promise<void> {
  if (!existsSync(migrationsFolder)) throw new Error(`migrations folder missing: ${migrationsFolder}`);
  const { url, ssl } = postgresConnection(databaseUrl);
  const sql = postgres(url, { max: 1, ssl, onnotice: () => {} });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(drizzle(sql), { migrationsFolder });
  } finally {
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => undefined);
    await sql.end({ timeout: 5 });
  }
}
