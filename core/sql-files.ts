import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SqlMigration {
  version: number;
  name: string;
  statements: string[];
}

/**
 * Reads `NNN_name.sql` files in version order. Statements are separated by a `;` that ends a
 * line; `--` comment lines are dropped. `replace` substitutes placeholders such as `${db}`.
 */
export function readMigrations(dir: string, replace: Record<string, string> = {}): SqlMigration[] {
  return readdirSync(dir)
    .filter((file) => /^\d+_.+\.sql$/.test(file))
    .sort()
    .map((file) => {
      let sql = readFileSync(join(dir, file), 'utf8');
      for (const [placeholder, value] of Object.entries(replace)) sql = sql.replaceAll(placeholder, value);
      return { version: Number(file.split('_')[0]), name: file.replace(/\.sql$/, ''), statements: splitStatements(sql) };
    });
}

export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
    .filter((statement) => statement.length > 0);
}
