import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type ApiOptions } from '../../api/app.js';
import { createToken } from '../../auth/tokens.js';
import { mysqlAdminStore } from '../../mysql/admin-store.js';
import { mysqlRateLimitStore } from '../../mysql/rate-limit-store.js';
import { createProduct } from '../../orders/catalog-service.js';
import { startApi, type ApiHarness } from '../support/api.js';

/** Writes per client: 2 per 10 s window, long enough that no window resets during a test. */
const TIGHT = { perSecond: 0.2, burst: 2 };

describe('write rate limit per client, behind proxies and across replicas', () => {
  let api: ApiHarness;
  let database: string;
  let productId: string;
  let n = 0;

  beforeAll(async () => {
    api = await startApi();
    database = ((await api.pool.query('SELECT DATABASE() AS name')) as unknown as [[{ name: string }]])[0][0].name;
    productId = (await createProduct(api.deps, { sku: 'RL-1', name: 'Valve', category: 'Tools', price: '3.00', currency: 'USD', initialStock: 1 })).product.id;
  });
  afterAll(() => api?.close());

  /** An API replica on the harness's database, listening on a free port. */
  async function replica(options: Partial<ApiOptions>) {
    const admin = mysqlAdminStore(api.pool);
    const server = createServer(createApp({ orders: api.deps, admin: { tokens: admin, audit: admin } }, options));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const servers = { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    /** A write (registers a user); its status and Retry-After. */
    const write = async (headers: Record<string, string> = {}) => {
      const response = await fetch(`${url}/api/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ email: `rl${n++}@example.com`, name: 'RL' }),
      });
      await response.arrayBuffer();
      return { status: response.status, retryAfter: response.headers.get('retry-after') };
    };
    const reprice = async (token: string) => {
      const response = await fetch(`${url}/admin/products/${productId}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ price: '3.00' }),
      });
      await response.arrayBuffer();
      return response.status;
    };
    return { write, reprice, ...servers };
  }
  const statuses = async (calls: (() => Promise<{ status: number } | number>)[]) => {
    const out: number[] = [];
    for (const call of calls) {
      const result = await call();
      out.push(typeof result === 'number' ? result : result.status);
    }
    return out;
  };

  it('behind a trusted proxy, clients named by X-Forwarded-For are limited separately (429 with Retry-After)', async () => {
    const app = await replica({ rateLimit: TIGHT, trustProxy: 'loopback' });
    try {
      const a = { 'X-Forwarded-For': '203.0.113.1' };
      const b = { 'X-Forwarded-For': '198.51.100.7, 203.0.113.2' }; // the nearest untrusted address is the client
      expect(await statuses([() => app.write(a), () => app.write(a)])).toEqual([201, 201]);
      const limited = await app.write(a);
      expect(limited.status).toBe(429);
      expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(limited.retryAfter)).toBeLessThanOrEqual(10);
      expect(await statuses([() => app.write(b), () => app.write(b), () => app.write(b)])).toEqual([201, 201, 429]);
    } finally {
      await app.close();
    }
  });

  it('without trust proxy, X-Forwarded-For cannot be used to dodge the limit', async () => {
    const app = await replica({ rateLimit: TIGHT });
    try {
      const spoofed = (i: number) => () => app.write({ 'X-Forwarded-For': `192.0.2.${i}` });
      expect(await statuses([spoofed(1), spoofed(2), spoofed(3), spoofed(4)])).toEqual([201, 201, 429, 429]);
    } finally {
      await app.close();
    }
  });

  it('an authenticated client is limited by its token, not by the address it shares', async () => {
    const app = await replica({ rateLimit: TIGHT });
    try {
      const bob = (await createToken(mysqlAdminStore(api.pool), { name: 'bob', role: 'admin' })).token;
      expect(await statuses([() => app.reprice(api.adminToken), () => app.reprice(api.adminToken), () => app.reprice(api.adminToken)])).toEqual([200, 200, 429]);
      expect(await statuses([() => app.reprice(bob), () => app.write(), () => app.write(), () => app.write()])).toEqual([200, 201, 201, 429]);
    } finally {
      await app.close();
    }
  });

  it('with the MySQL store, replicas share one budget per client (in memory, each would allow its own)', async () => {
    const shared = { ...TIGHT, store: mysqlRateLimitStore(api.pool, database) };
    const [one, two] = [await replica({ rateLimit: shared }), await replica({ rateLimit: shared })];
    const [three, four] = [await replica({ rateLimit: TIGHT }), await replica({ rateLimit: TIGHT })];
    try {
      await api.pool.query('DELETE FROM api_rate_limits');
      expect(await statuses([() => one.write(), () => two.write(), () => one.write(), () => two.write()])).toEqual([201, 201, 429, 429]);
      const [[row]] = (await api.pool.query('SELECT `key`, points FROM api_rate_limits')) as unknown as [[{ key: string; points: number }]];
      expect(row).toEqual({ key: 'writes:ip:127.0.0.1', points: 4 });
      expect(await statuses([() => three.write(), () => four.write(), () => three.write(), () => four.write()])).toEqual([201, 201, 201, 201]);
    } finally {
      await Promise.all([one, two, three, four].map((app) => app.close()));
    }
  });

  it('while the MySQL store fails, each replica limits in its own memory instead of failing writes', async () => {
    const app = await replica({ rateLimit: { ...TIGHT, store: mysqlRateLimitStore(api.pool, database) } });
    await api.pool.query('RENAME TABLE api_rate_limits TO api_rate_limits_away');
    try {
      expect(await statuses([() => app.write(), () => app.write(), () => app.write()])).toEqual([201, 201, 429]);
    } finally {
      await api.pool.query('RENAME TABLE api_rate_limits_away TO api_rate_limits');
      await app.close();
    }
  });
});
