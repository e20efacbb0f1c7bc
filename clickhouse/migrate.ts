import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { readMigrations } from '../core/sql-files.js';
import { assertIdentifier } from './client.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Versioned ClickHouse migrations (`clickhouse/migrations/NNN_name.sql`), applied the same way to
 * the embedded engine and to a server. `${db}` in a file stands for the (validated) database
 * name, so tests can migrate a database of their own. Statements are re-runnable (IF NOT
 * EXISTS, or see `alreadyApplied`); applied versions are recorded in `<db>.schema_migrations`.
 */
export async function migrateClickHouse(client: ClickHouseClient, database: string, dir = MIGRATIONS_DIR): Promise<string[]> {
  const db = assertIdentifier(database);
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, name String, applied_at DateTime64(6, 'UTC') DEFAULT now64(6))
            ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const result = await client.query({ query: `SELECT version FROM ${db}.schema_migrations FINAL`, format: 'JSONEachRow' });
  const applied = new Set((await result.json<{ version: number | string }>()).map((row) => Number(row.version)));
  const done: string[] = [];
  for (const migration of readMigrations(dir, { '${db}': db })) {
    if (applied.has(migration.version)) continue;
    for (const statement of migration.statements) await client.command({ query: statement }).catch((error: unknown) => alreadyApplied(statement, error));
    await client.insert({
      table: `${db}.schema_migrations`,
      values: [{ version: migration.version, name: migration.name }],
      format: 'JSONEachRow',
    });
    done.push(migration.name);
  }
  return done;
}

/**
 * `REMOVE TTL` has no IF EXISTS: run again (after a crash before its version was recorded) it
 * finds no TTL to remove, which is the state it was meant to reach. Any other failure is thrown.
 */
function alreadyApplied(statement: string, error: unknown): void {
  if (/\bREMOVE TTL\b/i.test(statement) && /doesn't have any table TTL/i.test(String((error as Error)?.message))) return;
  throw error;
}
