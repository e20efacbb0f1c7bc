import type { Pool } from 'mysql2/promise';
import { RateLimiterMemory, RateLimiterMySQL } from 'rate-limiter-flexible';
import type { RateLimitStore } from '../api/rate-limit.js';

/**
 * Rate-limit counters in MySQL/MariaDB (table api_rate_limits, migration 005), so every API
 * replica spends from one budget per client. Each limited request costs one short transaction
 * (an upsert and a read of the key's row). While the database fails, each process falls back to
 * counting in its own memory (rate-limiter-flexible's insurance limiter) rather than failing writes.
 */
export function mysqlRateLimitStore(pool: Pool, database: string): RateLimitStore {
  return (window) =>
    new RateLimiterMySQL({
      ...window,
      // The callback pool under mysql2's promise wrapper: the API rate-limiter-flexible speaks.
      storeClient: pool.pool,
      storeType: 'pool',
      dbName: database,
      tableName: 'api_rate_limits',
      tableCreated: true,
      insuranceLimiter: new RateLimiterMemory(window),
    });
}
