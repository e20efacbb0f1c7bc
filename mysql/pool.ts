import mysql, { type Pool, type PoolConnection } from 'mysql2/promise';
import { retry } from '../core/retry.js';

export interface MysqlOptions {
  /** mysql://user:password@host:port/database. Default mysql://shopstream:shopstream@127.0.0.1:3306/shopstream */
  url: string;
  /** Pool size. Default 10. */
  connectionLimit: number;
}

export const DEFAULT_MYSQL_OPTIONS: MysqlOptions = {
  url: 'mysql://shopstream:shopstream@127.0.0.1:3306/shopstream',
  connectionLimit: 10,
};

/**
 * A pool whose sessions run in UTC and return DECIMAL and DATETIME values as strings, so money
 * is never a float and timestamps keep their microseconds. Every statement is parameterized.
 *
 * Sessions use READ COMMITTED: every check of the write side is a locking read or a conditional
 * update, so it needs no snapshot, and InnoDB then takes no gap locks on scans, so the relay's
 * `FOR UPDATE SKIP LOCKED` claims never block (or deadlock with) the writers inserting events.
 */
export function createMysqlPool(options: Partial<MysqlOptions> = {}): Pool {
  const { url, connectionLimit } = { ...DEFAULT_MYSQL_OPTIONS, ...options };
  const pool = mysql.createPool({
    uri: url,
    connectionLimit,
    dateStrings: true,
    timezone: 'Z',
    decimalNumbers: false,
    supportBigNumbers: true,
    bigNumberStrings: true,
    multipleStatements: false,
  });
  pool.pool.on('connection', (connection) => {
    connection.query("SET time_zone = '+00:00'");
    connection.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  });
  return pool;
}

/** Deadlock (1213) or lock wait timeout (1205): the transaction was rolled back and may simply run again. */
export function isTransactionConflict(error: unknown): boolean {
  const errno = (error as { errno?: number }).errno;
  return errno === 1213 || errno === 1205;
}

/**
 * Runs `work` in a transaction: commit on success, rollback on any error. A transaction the
 * server rolled back for a deadlock or lock timeout is run again from the start (so `work` must
 * not depend on effects outside the transaction), up to 4 attempts.
 */
export async function inTransaction<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
  return retry(
    async () => {
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        const result = await work(connection);
        await connection.commit();
        return result;
      } catch (error) {
        await connection.rollback().catch(() => undefined);
        throw error;
      } finally {
        connection.release();
      }
    },
    { attempts: 4, initialDelayMs: 5, maxDelayMs: 100, retryOn: isTransactionConflict },
  );
}

export function databaseOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`MySQL URL must name a database of letters, digits and _ (got "${name}")`);
  return name;
}
