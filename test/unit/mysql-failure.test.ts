import type { Pool } from 'mysql2/promise';
import sql from 'sql-template-tag';
import { describe, expect, it } from 'vitest';
import { DependencyError } from '../../core/errors.js';
import { inTransaction, mysqlFailure } from '../../mysql/pool.js';

const driverError = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${code} at 10.0.0.7:3306`), { code, ...extra });

/** A pool whose every statement fails with `error` (what mysql2's callback API would hand back). */
function failingPool(error: Error): { pool: Pool; attempts: () => number } {
  let attempts = 0;
  const connection = { query: (_sql: string, _values: unknown[], callback: (e: Error) => void) => callback(error) };
  const pool = { getConnection: async () => (attempts++, { connection, release: () => undefined }) } as unknown as Pool;
  return { pool, attempts: () => attempts };
}

describe('MySQL failures as typed errors', () => {
  it('classifies an unreachable or overloaded server as a retriable DependencyError without its address', () => {
    for (const error of [driverError('ECONNREFUSED'), driverError('PROTOCOL_CONNECTION_LOST', { fatal: true }), driverError('ER_CON_COUNT_ERROR', { errno: 1040 }), driverError('ETIMEDOUT')]) {
      const mapped = mysqlFailure(error);
      expect(mapped, error.message).toBeInstanceOf(DependencyError);
      expect((mapped as DependencyError).retriable).toBe(true);
      expect((mapped as DependencyError).code).toBe('MYSQL_UNAVAILABLE');
      expect((mapped as DependencyError).message).not.toContain('10.0.0.7');
      expect((mapped as DependencyError).cause).toBe(error);
    }
  });

  it('leaves statement errors alone (a constraint is not an outage)', () => {
    const duplicate = driverError('ER_DUP_ENTRY', { errno: 1062 });
    expect(mysqlFailure(duplicate)).toBe(duplicate);
    const range = driverError('ER_WARN_DATA_OUT_OF_RANGE', { errno: 1264 });
    expect(mysqlFailure(range)).toBe(range);
  });

  it('runs a deadlocked transaction again, and fails as a retriable DependencyError once attempts run out', async () => {
    const { pool, attempts } = failingPool(driverError('ER_LOCK_DEADLOCK', { errno: 1213 }));
    const failure = await inTransaction(pool, (tx) => tx.run(sql`SELECT 1`)).catch((error: unknown) => error);
    expect(attempts()).toBe(4);
    expect(failure).toBeInstanceOf(DependencyError);
    expect((failure as DependencyError).retriable).toBe(true);
  });

  it('does not run a transaction again after a lost connection (its COMMIT may have landed)', async () => {
    const { pool, attempts } = failingPool(driverError('PROTOCOL_CONNECTION_LOST', { fatal: true }));
    const failure = await inTransaction(pool, (tx) => tx.run(sql`SELECT 1`)).catch((error: unknown) => error);
    expect(attempts()).toBe(1);
    expect(failure).toBeInstanceOf(DependencyError);
  });
});
