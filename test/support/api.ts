import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'mysql2/promise';
import { createApp, type ApiOptions } from '../../api/app.js';
import { createToken } from '../../auth/tokens.js';
import { mysqlAdminStore } from '../../mysql/admin-store.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { createMysqlPool } from '../../mysql/pool.js';
import type { OrderServiceDeps } from '../../orders/deps.js';
import { createTestDatabase } from './env.js';

export interface ApiResponse {
  status: number;
  body: any;
  headers: Headers;
}

export interface ApiHarness {
  url: string;
  pool: Pool;
  deps: OrderServiceDeps;
  adminToken: string;
  viewerToken: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Row counts of every table a write can touch: equal before and after means nothing changed. */
  counts(): Promise<Record<string, number>>;
  /**
   * For every aggregate, the versions of its outbox rows, in outbox order, next to the versions
   * its current state implies (1..version): equal when every accepted change wrote exactly one
   * event with the right version.
   */
  outboxVersions(): Promise<{ actual: Record<string, string>; expected: Record<string, string> }>;
  close(): Promise<void>;
}

/** The real Express app on the real MariaDB (a database of its own), listening on a free port. */
export async function startApi(options: Partial<ApiOptions> = {}): Promise<ApiHarness> {
  const database = await createTestDatabase();
  const pool = createMysqlPool({ url: database.url, connectionLimit: 60 });
  const deps: OrderServiceDeps = { store: mysqlOrderStore(pool) };
  const admin = mysqlAdminStore(pool);
  const app = createApp({ orders: deps, admin: { tokens: admin, audit: admin } }, { rateLimit: { perSecond: 0, burst: 0 }, ...options });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const adminToken = (await createToken(admin, { name: 'alice', role: 'admin' })).token;
  const viewerToken = (await createToken(admin, { name: 'victor', role: 'viewer' })).token;

  return {
    url,
    pool,
    deps,
    adminToken,
    viewerToken,
    async call(method, path, body, headers = {}) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
    },
    async counts() {
      const tables = ['orders', 'order_items', 'outbox', 'payments', 'idempotency_keys', 'products', 'users'];
      const result: Record<string, number> = {};
      for (const table of tables) {
        const [[row]] = (await pool.query(`SELECT COUNT(*) AS n FROM ${table}`)) as unknown as [[{ n: number }]];
        result[table] = Number(row!.n);
      }
      const [[stock]] = (await pool.query('SELECT COALESCE(SUM(on_hand), 0) AS h, COALESCE(SUM(reserved), 0) AS r FROM inventory')) as unknown as [[{ h: string; r: string }]];
      result.on_hand = Number(stock!.h);
      result.reserved = Number(stock!.r);
      return result;
    },
    async outboxVersions() {
      const aggregates: [string, string][] = [
        ['order', 'SELECT id, version FROM orders'],
        ['payment', 'SELECT order_id AS id, version FROM payments'],
        ['product', 'SELECT id, version FROM products'],
        ['inventory', 'SELECT product_id AS id, version FROM inventory'],
        ['user', 'SELECT id, version FROM users'],
      ];
      const expected: Record<string, string> = {};
      for (const [type, query] of aggregates) {
        const [rows] = (await pool.query(query)) as unknown as [{ id: string; version: number }[]];
        for (const row of rows) expected[`${type}:${row.id}`] = Array.from({ length: Number(row.version) }, (_, i) => i + 1).join(',');
      }
      const [events] = (await pool.query('SELECT aggregate_type, aggregate_id, aggregate_version FROM outbox ORDER BY id')) as unknown as [
        { aggregate_type: string; aggregate_id: string; aggregate_version: number }[],
      ];
      const actual: Record<string, string> = {};
      for (const e of events) {
        const key = `${e.aggregate_type}:${e.aggregate_id}`;
        actual[key] = actual[key] ? `${actual[key]},${e.aggregate_version}` : String(e.aggregate_version);
      }
      return { actual, expected };
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
      await database.drop();
    },
  };
}
