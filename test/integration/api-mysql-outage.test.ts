import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { createToken } from '../../auth/tokens.js';
import { mysqlAdminStore } from '../../mysql/admin-store.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { createMysqlPool } from '../../mysql/pool.js';
import { createProduct, registerUser } from '../../orders/catalog-service.js';
import type { OrderServiceDeps } from '../../orders/deps.js';
import { createTestDatabase } from '../support/env.js';
import { tcpProxy } from '../support/tcp-proxy.js';

describe('MySQL outage at the API edge', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: Awaited<ReturnType<typeof tcpProxy>>;
  let direct: Pool; // straight to MariaDB: seeds and checks
  let proxied: Pool; // what the API uses
  let server: Server;
  let url: string;
  let adminToken: string;
  let userId: string;
  let productId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const target = new URL(database.url);
    proxy = await tcpProxy({ host: target.hostname, port: Number(target.port || 3306) });
    const viaProxy = new URL(database.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    direct = createMysqlPool({ url: database.url, connectionLimit: 2 });
    proxied = createMysqlPool({ url: viaProxy.toString(), connectionLimit: 4 });
    const seed: OrderServiceDeps = { store: mysqlOrderStore(direct) };
    userId = (await registerUser(seed, { email: 'outage@example.com', name: 'Outage' })).id;
    productId = (await createProduct(seed, { sku: 'O-1', name: 'Torch', category: 'Tools', price: '12.50', currency: 'USD', initialStock: 100 })).product.id;
    adminToken = (await createToken(mysqlAdminStore(direct), { name: 'ops', role: 'admin' })).token;
    const admin = mysqlAdminStore(proxied);
    const app = createApp({ orders: { store: mysqlOrderStore(proxied) }, admin: { tokens: admin, audit: admin } }, { rateLimit: { perSecond: 0, burst: 0 } });
    server = createHttpServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await proxied?.end().catch(() => undefined);
    await direct?.end();
    await proxy?.cut().catch(() => undefined);
    await database?.drop();
  });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
  const orderCount = async () => Number(((await direct.query('SELECT COUNT(*) AS n FROM orders')) as unknown as [[{ n: number }]])[0][0].n);
  const order = () => ({ userId, items: [{ productId, quantity: 1 }] });
  const expectUnavailable = (response: Awaited<ReturnType<typeof call>>, what: string) => {
    expect(response.status, `${what}: ${JSON.stringify(response.body)}`).toBe(503);
    expect(response.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
    expect(Number(response.headers.get('retry-after')), what).toBeGreaterThan(0);
    expect(response.body, what).toMatchObject({ status: 503, code: 'MYSQL_UNAVAILABLE' });
    expect(response.body.detail, what).not.toContain(String(proxy.port));
  };

  it('answers 503 problem+json with Retry-After while the database is unreachable, and serves again once it is back', async () => {
    const placed = await call('POST', '/api/orders', order());
    expect(placed.status).toBe(201);
    expect((await call('GET', `/api/orders/${placed.body.id}`)).status).toBe(200);
    const before = await orderCount();

    await proxy.cut();
    expectUnavailable(await call('GET', '/api/products'), 'list products');
    expectUnavailable(await call('GET', `/api/orders/${placed.body.id}`), 'get order');
    expectUnavailable(await call('POST', '/api/orders', order(), { 'Idempotency-Key': 'during-outage' }), 'place order');
    expectUnavailable(await call('POST', '/api/payments', { orderId: placed.body.id, method: 'CARD', amount: '12.50' }), 'capture payment');
    expectUnavailable(await call('DELETE', `/admin/orders/${placed.body.id}`, { reason: 'outage test' }, { Authorization: `Bearer ${adminToken}` }), 'admin delete');
    expect(await orderCount()).toBe(before);

    await proxy.restore();
    expect((await call('GET', '/api/products')).status).toBe(200);
    const retried = await call('POST', '/api/orders', order(), { 'Idempotency-Key': 'during-outage' });
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(await orderCount()).toBe(before + 1);
  });

  it('answers 503 when the connection is lost in the middle of a transaction, which then leaves nothing behind', async () => {
    const before = await orderCount();
    const stock = async () => ((await direct.query('SELECT reserved FROM inventory WHERE product_id = ?', [productId])) as unknown as [[{ reserved: number }]])[0][0].reserved;
    const reservedBefore = await stock();
    // Hold the product's stock row so the order's transaction is mid-way (waiting on it) when the link drops.
    const blocker = await direct.getConnection();
    await blocker.query('START TRANSACTION');
    await blocker.query('SELECT * FROM inventory WHERE product_id = ? FOR UPDATE', [productId]);
    const pending = call('POST', '/api/orders', order());
    await waitForLockWaiter(direct);
    await proxy.cut();
    expectUnavailable(await pending, 'order cut mid-transaction');
    await blocker.query('ROLLBACK');
    blocker.release();
    await proxy.restore();
    expect(await orderCount()).toBe(before);
    expect(await stock()).toBe(reservedBefore);
    expect((await call('POST', '/api/orders', order())).status).toBe(201);
  });
});

/** Resolves once some transaction waits for a row lock (the API's order, behind the blocker). */
async function waitForLockWaiter(pool: Pool): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const [rows] = (await pool.query(
      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND DB = DATABASE() AND INFO LIKE '%UPDATE inventory SET reserved%'",
    )) as unknown as [{ n: number }[]];
    if (Number(rows[0]!.n) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the order never waited for the stock row lock');
}
