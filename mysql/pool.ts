import mysql, { type Pool, type PoolConnection } from 'mysql2/promise';
import sql, { join, type Sql } from 'sql-template-tag';
import { DependencyError } from '../core/errors.js';
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
    // Several parameterized statements per packet (BatchingTransaction); values are still
    // escaped by the driver, never concatenated.
    multipleStatements: true,
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

/** Failures that say the server cannot be reached or serve now, not that the statement is wrong. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR', // 1040: too many connections
  'ER_TOO_MANY_USER_CONNECTIONS', // 1203
  'ER_SERVER_SHUTDOWN', // 1053
  'ER_QUERY_INTERRUPTED', // 1317: killed, e.g. by a shutdown
  'ER_CONNECTION_KILLED', // 1927 (MariaDB)
  'ER_CLIENT_INTERACTION_TIMEOUT', // 4031 (MySQL 8): idle connection closed by the server
  'ER_OPTION_PREVENTS_STATEMENT', // 1290: --read-only, e.g. during a failover
]);

/**
 * A mysql2 error as the typed error of the rest of the system: an unreachable or overloaded
 * server (a connection-level failure, which mysql2 marks `fatal`) is a retriable
 * DependencyError('mysql'); anything else (a constraint, a conflict, a bug) is returned
 * unchanged. The message names the driver code only, never the server's address.
 */
export function mysqlFailure(error: unknown): unknown {
  if (error instanceof DependencyError) return error;
  const { code, fatal } = (error ?? {}) as { code?: unknown; fatal?: unknown };
  if ((typeof code === 'string' && UNAVAILABLE_CODES.has(code)) || fatal === true) {
    return new DependencyError('mysql', `the database is unavailable (${typeof code === 'string' ? code : 'connection closed'})`, { cause: error });
  }
  return error;
}

type Callbacked = { query(sql: string, values: unknown[], callback: (error: Error | null, result: unknown) => void): void };

/**
 * Runs a statement through mysql2's callback API (its promise wrapper builds an Error for a stack
 * trace on every query, which shows in profiles).
 */
export function query<T>(db: Pool | PoolConnection, statement: Sql): Promise<T> {
  const core = ((db as unknown as { connection?: Callbacked; pool?: Callbacked }).connection ?? (db as unknown as { pool: Callbacked }).pool) as Callbacked;
  return new Promise((resolve, reject) =>
    core.query(statement.sql, statement.values, (error, result) => (error ? reject(mysqlFailure(error)) : resolve(result as T))),
  );
}

/**
 * A transaction that spends as few round trips as it can. START TRANSACTION goes with the first
 * statement. Writes whose result nobody needs (`defer`) wait, in order, for the next packet.
 * Statements whose results are awaited (`run`, `runMany`) and that are issued in the same tick
 * (e.g. under one Promise.all) share one multi-statement packet. COMMIT goes with what is
 * deferred. Reads see every earlier write. A duplicate-key error of a statement with `conflicts`
 * surfaces as the conflict given for its key.
 */
export class BatchingTransaction {
  private begun = false;
  private deferred: { statement: Sql; conflicts?: Record<string, Error> }[] = [];
  private queued: { statement: Sql; conflicts?: Record<string, Error>; resolve: (result: unknown) => void; reject: (error: unknown) => void }[] = [];
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly connection: PoolConnection) {}

  /** Runs `statement` with the next packet (after what was deferred) and returns its result. */
  run<T>(statement: Sql, conflicts?: Record<string, Error>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queued.length === 0) queueMicrotask(() => void this.flushQueued());
      this.queued.push({ statement, conflicts, resolve: resolve as (result: unknown) => void, reject });
    });
  }

  /** Runs several statements in the same packet; returns their results. */
  runMany(statements: Sql[]): Promise<unknown[]> {
    return Promise.all(statements.map((statement) => this.run<unknown>(statement)));
  }

  /** Queues a write; it is sent with the next packet. */
  defer(statement: Sql, conflicts?: Record<string, Error>): void {
    this.deferred.push({ statement, conflicts });
  }

  async commit(): Promise<void> {
    await this.flushing;
    if (!this.begun && this.deferred.length === 0) return;
    await this.send([...this.deferred, { statement: sql`COMMIT` }]);
  }

  async rollback(): Promise<void> {
    await this.flushing.catch(() => undefined);
    this.deferred = [];
    if (this.begun) await query(this.connection, sql`ROLLBACK`);
  }

  private flushQueued(): Promise<void> {
    const batch = this.queued;
    this.queued = [];
    const deferred = this.deferred;
    this.flushing = this.flushing
      .then(() => this.send([...deferred, ...batch]))
      .then(
        (results) => batch.forEach((entry, i) => entry.resolve(results[deferred.length + i])),
        (error) => batch.forEach((entry) => entry.reject(error)),
      );
    return this.flushing;
  }

  private async send(batch: { statement: Sql; conflicts?: Record<string, Error> }[]): Promise<unknown[]> {
    const statements = this.begun ? batch.map((b) => b.statement) : [sql`START TRANSACTION`, ...batch.map((b) => b.statement)];
    const offset = this.begun ? 0 : 1;
    this.begun = true;
    this.deferred = [];
    try {
      const result = await query<unknown>(this.connection, join(statements, ';\n', '', ''));
      return (statements.length === 1 ? [result] : (result as unknown[])).slice(offset);
    } catch (error) {
      const { errno, sqlMessage = '' } = error as { errno?: number; sqlMessage?: string };
      if (errno === 1062) {
        for (const { conflicts } of batch) {
          const key = Object.keys(conflicts ?? {}).find((name) => sqlMessage.includes(name));
          if (key) throw conflicts![key]!;
        }
      }
      throw error;
    }
  }
}

/**
 * Runs `work` in a (batching) transaction: commit on success, rollback on any error. A
 * transaction the server rolled back for a deadlock or lock timeout is run again from the start
 * (so `work` must not depend on effects outside the transaction), up to 4 attempts. A server that
 * cannot be reached, or a conflict that outlived the attempts, fails as a retriable
 * DependencyError('mysql'); a lost connection is not retried here (a COMMIT may have landed).
 */
export async function inTransaction<T>(pool: Pool, work: (tx: BatchingTransaction) => Promise<T>): Promise<T> {
  return retry(
    async () => {
      const connection = await pool.getConnection().catch((error: unknown) => Promise.reject(mysqlFailure(error)));
      const tx = new BatchingTransaction(connection);
      try {
        const result = await work(tx);
        await tx.commit();
        return result;
      } catch (error) {
        await tx.rollback().catch(() => undefined);
        throw error;
      } finally {
        connection.release();
      }
    },
    { attempts: 4, initialDelayMs: 5, maxDelayMs: 100, retryOn: isTransactionConflict },
  ).catch((error: unknown) =>
    Promise.reject(isTransactionConflict(error) ? new DependencyError('mysql', `the transaction kept conflicting with others (errno ${(error as { errno: number }).errno}); retry`, { cause: error }) : error),
  );
}

export function databaseOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`MySQL URL must name a database of letters, digits and _ (got "${name}")`);
  return name;
}
