import mysql, { type Pool, type PoolConnection } from 'mysql2/promise';

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
  });
  return pool;
}

/** Runs `work` in a transaction: commit on success, rollback on any error. */
export async function inTransaction<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
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
}

export function databaseOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`MySQL URL must name a database of letters, digits and _ (got "${name}")`);
  return name;
}
