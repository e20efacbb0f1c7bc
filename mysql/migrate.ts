import { fileURLToPath } from 'node:url';
import type { Pool } from 'mysql2/promise';
import { readMigrations, type SqlMigration } from '../core/sql-files.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in version order. Safe to run
 * from several processes at once (a named lock serializes them) and idempotent. DDL commits
 * implicitly, so a migration is written to survive being cut short: CREATE ... IF NOT EXISTS, or a
 * single ALTER TABLE (atomic on MySQL 8; MySQL 8 has no ADD COLUMN IF NOT EXISTS).
 */
export async function migrateMysql(pool: Pool, migrations: SqlMigration[] = readMigrations(MIGRATIONS_DIR)): Promise<string[]> {
  const connection = await pool.getConnection();
  try {
    const [[lock]] = (await connection.query("SELECT GET_LOCK('shopstream_migrations', 60) AS ok")) as unknown as [[{ ok: number }]];
    if (lock?.ok !== 1) throw new Error('could not take the migration lock within 60 s');
    await connection.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version INT PRIMARY KEY,
         name VARCHAR(200) NOT NULL,
         applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
       ) ENGINE=InnoDB`,
    );
    const [rows] = (await connection.query('SELECT version FROM schema_migrations')) as unknown as [{ version: number }[]];
    const applied = new Set(rows.map((row) => Number(row.version)));
    const done: string[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements) await connection.query(statement);
      await connection.query('INSERT INTO schema_migrations (version, name) VALUES (?, ?)', [migration.version, migration.name]);
      done.push(migration.name);
    }
    return done;
  } finally {
    await connection.query("SELECT RELEASE_LOCK('shopstream_migrations')").catch(() => undefined);
    connection.release();
  }
}
