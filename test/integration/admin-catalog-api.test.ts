import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct, registerUser } from '../../orders/catalog-service.js';
import { mysqlAdminStore } from '../../mysql/admin-store.js';
import { startApi, type ApiHarness } from '../support/api.js';
import { entry } from '../support/env.js';

describe('catalog, users and admin API', () => {
  let api: ApiHarness;
  let userId: string;
  let productId: string;
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    api = await startApi();
    userId = (await registerUser(api.deps, { email: 'cat@example.com', name: 'Cat' })).id;
    productId = (await createProduct(api.deps, { sku: 'C-1', name: 'Lamp', category: 'Home', price: '30.00', currency: 'USD', initialStock: 10 })).product.id;
  });
  afterAll(() => api?.close());

  async function refused(method: string, path: string, body: unknown, status: number, code: string, headers?: Record<string, string>, field?: string) {
    const before = await api.counts();
    const response = await api.call(method, path, body, headers);
    expect(response.status, JSON.stringify(response.body)).toBe(status);
    expect(response.body.code).toBe(code);
    if (field) expect(response.body.fields.map((f: { field: string }) => f.field)).toContain(field);
    expect(await api.counts()).toEqual(before);
  }
  const audit = async () => (await mysqlAdminStore(api.pool).listAudit(1))[0]!;

  describe('catalog and users', () => {
    it('lists and gets products, stock and users', async () => {
      const list = await api.call('GET', '/api/products?limit=1');
      expect(list.status).toBe(200);
      expect(list.body.items).toEqual([{ id: productId, sku: 'C-1', name: 'Lamp', category: 'Home', price: '30.00', currency: 'USD', version: 1 }]);
      expect((await api.call('GET', '/api/products?category=Nope')).body.items).toEqual([]);
      expect((await api.call('GET', `/api/products/${productId}`)).body.name).toBe('Lamp');
      expect((await api.call('GET', `/api/inventory/${productId}`)).body).toMatchObject({ onHand: 10, reserved: 0, available: 10, version: 1 });
      expect((await api.call('GET', `/api/users/${userId}`)).body).toMatchObject({ id: userId, email: 'cat@example.com', name: 'Cat' });
      expect((await api.call('GET', '/api/products/00000000-0000-4000-8000-000000000000')).body.code).toBe('PRODUCT_NOT_FOUND');
      expect((await api.call('GET', '/api/users/00000000-0000-4000-8000-000000000000')).body.code).toBe('USER_NOT_FOUND');
    });

    it('registers users and refuses bad or duplicate ones', async () => {
      const created = await api.call('POST', '/api/users', { email: 'new@example.com', name: 'New' });
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`/api/users/${created.body.id}`);
      await refused('POST', '/api/users', { email: 'new@example.com', name: 'Again' }, 409, 'EMAIL_TAKEN');
      await refused('POST', '/api/users', { email: 'not-an-email', name: 'X' }, 400, 'VALIDATION_FAILED', undefined, '/email');
      await refused('POST', '/api/users', { email: 'a@example.com' }, 400, 'VALIDATION_FAILED', undefined, '/name');
      await refused('POST', '/api/users', { email: 'b@example.com', name: 'B', admin: true }, 400, 'VALIDATION_FAILED', undefined, '/admin');
    });
  });

  describe('admin authentication and authorization', () => {
    it('needs a valid bearer token (a bare X-Admin-Id is not one) and audits every attempt', async () => {
      const created = (await api.call('POST', '/api/orders', { userId, items: [{ productId, quantity: 1 }] })).body;
      const path = `/admin/orders/${created.id}`;
      await refused('DELETE', path, { reason: 'fraud' }, 401, 'UNAUTHORIZED');
      expect(await audit()).toMatchObject({ actor: 'unauthenticated', action: 'DELETE /admin/orders/:id', target: created.id, outcome: 'rejected' });
      await refused('DELETE', path, { reason: 'fraud' }, 401, 'UNAUTHORIZED', { 'X-Admin-Id': 'alice' });
      expect((await audit()).actor).toBe('unauthenticated (claimed alice)');
      await refused('DELETE', path, { reason: 'fraud' }, 401, 'UNAUTHORIZED', { Authorization: 'Bearer sst_forged' });
      await refused('DELETE', path, { reason: 'fraud' }, 401, 'UNAUTHORIZED', { Authorization: `Bearer sst_${'A'.repeat(43)}` });
      await refused('DELETE', path, { reason: 'fraud' }, 403, 'FORBIDDEN', bearer(api.viewerToken));
      expect(await audit()).toMatchObject({ actor: 'victor', outcome: 'rejected' });
    });

    it('refuses a revoked token', async () => {
      const store = mysqlAdminStore(api.pool);
      const { createToken } = await import('../../auth/tokens.js');
      const { token } = await createToken(store, { name: 'temp', role: 'admin' });
      expect((await api.call('GET', '/admin/audit', undefined, bearer(token))).status).toBe(200);
      expect(await store.revokeTokens('temp')).toBe(1);
      await refused('GET', '/admin/audit', undefined, 401, 'UNAUTHORIZED', bearer(token));
    });

    it('creates and revokes tokens with the CLI (printed once, stored as a hash)', async () => {
      const { execFileSync } = await import('node:child_process');
      const [[db]] = (await api.pool.query('SELECT DATABASE() AS name')) as unknown as [[{ name: string }]];
      const url = new URL(entry.mysql.url);
      url.pathname = `/${db!.name}`;
      const cli = (...args: string[]) =>
        execFileSync(process.execPath, [new URL('../../bin/shopstream.js', import.meta.url).pathname, 'admin', ...args], {
          env: { ...process.env, MYSQL_URL: url.toString() },
          encoding: 'utf8',
        });
      const token = /^(sst_\S+)$/m.exec(cli('create-token', '--name', 'cli-user', '--role', 'admin'))![1]!;
      expect((await api.call('GET', '/admin/audit', undefined, bearer(token))).status).toBe(200);
      const [[stored]] = (await api.pool.query("SELECT token_hash FROM api_tokens WHERE name = 'cli-user'")) as unknown as [[{ token_hash: string }]];
      expect(stored!.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(stored!.token_hash).not.toContain(token.slice(4, 20));
      expect(cli('revoke-token', '--name', 'cli-user')).toMatch(/Revoked 1 token/);
      expect((await api.call('GET', '/admin/audit', undefined, bearer(token))).status).toBe(401);
    });

    it('lets a viewer read the audit log', async () => {
      const log = await api.call('GET', '/admin/audit?limit=5', undefined, bearer(api.viewerToken));
      expect(log.status).toBe(200);
      expect(log.body.items.length).toBeGreaterThan(0);
      expect(log.body.items[0]).toHaveProperty('actor');
    });
  });

  describe('admin operations', () => {
    it('soft-deletes an order with a reason: OrderDeleted, hidden from reads, stock back, audited; twice is 409', async () => {
      const created = (await api.call('POST', '/api/orders', { userId, items: [{ productId, quantity: 2 }] })).body;
      await refused('DELETE', `/admin/orders/${created.id}`, {}, 400, 'VALIDATION_FAILED', bearer(api.adminToken), '/reason');
      const before = await api.counts();
      const deleted = await api.call('DELETE', `/admin/orders/${created.id}`, { reason: 'test order' }, bearer(api.adminToken));
      expect(deleted.status).toBe(204);
      expect((await api.counts()).reserved - before.reserved).toBe(-2);
      expect(await audit()).toMatchObject({ actor: 'alice', action: 'DELETE /admin/orders/:id', target: created.id, reason: 'test order', outcome: 'ok' });
      expect((await api.call('GET', `/api/orders/${created.id}`)).status).toBe(404);
      expect((await api.call('GET', `/api/orders?userId=${userId}&limit=100`)).body.items.map((o: { id: string }) => o.id)).not.toContain(created.id);
      const [[row]] = (await api.pool.query('SELECT deleted_by, delete_reason, version FROM orders WHERE id = ?', [created.id])) as unknown as [[Record<string, unknown>]];
      expect(row).toEqual({ deleted_by: 'alice', delete_reason: 'test order', version: 2 });
      const [[event]] = (await api.pool.query("SELECT aggregate_version, payload FROM outbox WHERE aggregate_id = ? AND event_type = 'OrderDeleted'", [created.id])) as unknown as [
        [{ aggregate_version: number; payload: string }],
      ];
      expect(event.aggregate_version).toBe(2);
      expect(JSON.parse(event.payload)).toMatchObject({ deletedBy: 'alice', reason: 'test order' });
      await refused('DELETE', `/admin/orders/${created.id}`, { reason: 'again' }, 409, 'ORDER_ALREADY_DELETED', bearer(api.adminToken));
      await refused('POST', `/api/orders/${created.id}/cancel`, {}, 404, 'ORDER_NOT_FOUND');
      await refused('DELETE', '/admin/orders/00000000-0000-4000-8000-000000000000', { reason: 'none' }, 404, 'ORDER_NOT_FOUND', bearer(api.adminToken));
    });

    it('creates products, changes prices (placed orders keep theirs) and adjusts stock', async () => {
      const admin = bearer(api.adminToken);
      const created = await api.call('POST', '/admin/products', { sku: 'NEW-1', name: 'Chair', category: 'Home', price: '45.50', initialStock: 3 }, admin);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ sku: 'NEW-1', price: '45.50', currency: 'USD', version: 1 });
      await refused('POST', '/admin/products', { sku: 'NEW-1', name: 'Dup', category: 'Home', price: '1.00' }, 409, 'SKU_TAKEN', admin);
      await refused('POST', '/admin/products', { sku: 'NEW-2', name: 'X', category: 'Home', price: '1.001' }, 400, 'VALIDATION_FAILED', admin, '/price');
      await refused('POST', '/admin/products', { sku: 'NEW-3', name: 'X', category: 'Home', price: 1 }, 400, 'VALIDATION_FAILED', admin, '/price');

      const placed = (await api.call('POST', '/api/orders', { userId, items: [{ productId: created.body.id, quantity: 2 }] })).body;
      const repriced = await api.call('PATCH', `/admin/products/${created.body.id}`, { price: '49.00' }, admin);
      expect(repriced.body).toMatchObject({ price: '49.00', version: 2 });
      expect((await api.call('GET', `/api/orders/${placed.id}`)).body.totalAmount).toBe('91.00');
      expect((await api.call('POST', '/api/orders', { userId, items: [{ productId: created.body.id, quantity: 1 }] })).body.totalAmount).toBe('49.00');

      const adjusted = await api.call('PATCH', `/admin/inventory/${created.body.id}`, { delta: 7, reason: 'delivery' }, admin);
      // Versions 2 and 3 were the two orders' reservations.
      expect(adjusted.body).toMatchObject({ onHand: 10, reserved: 3, available: 7, version: 4 });
      expect((await api.call('PATCH', `/admin/inventory/${created.body.id}`, { onHand: 4 }, admin)).body).toMatchObject({ onHand: 4, version: 5 });
      await refused('PATCH', `/admin/inventory/${created.body.id}`, { onHand: 2 }, 409, 'STOCK_BELOW_RESERVED', admin);
      await refused('PATCH', `/admin/inventory/${created.body.id}`, { delta: 1, onHand: 5 }, 400, 'VALIDATION_FAILED', admin, '/delta');
      await refused('PATCH', `/admin/inventory/${created.body.id}`, {}, 400, 'VALIDATION_FAILED', admin, '/delta');
      const events = (
        (await api.pool.query('SELECT event_type, aggregate_type, aggregate_version FROM outbox WHERE aggregate_id = ? ORDER BY id', [created.body.id])) as unknown as [
          { event_type: string; aggregate_type: string; aggregate_version: number }[],
        ]
      )[0].map((e) => `${e.aggregate_type}:${e.event_type}:${e.aggregate_version}`);
      expect(events).toEqual([
        'product:ProductUpserted:1',
        'inventory:InventoryAdjusted:1',
        'inventory:InventoryAdjusted:2',
        'product:ProductUpserted:2',
        'inventory:InventoryAdjusted:3',
        'inventory:InventoryAdjusted:4',
        'inventory:InventoryAdjusted:5',
      ]);
    });
  });

  describe('the OpenAPI document', () => {
    it('is OpenAPI 3.1, covers every route and is generated from the validating schemas', async () => {
      const doc = (await api.call('GET', '/api/openapi.json')).body;
      expect(doc.openapi).toBe('3.1.0');
      for (const [path, method] of [
        ['/api/orders', 'post'],
        ['/api/orders/{id}/status', 'patch'],
        ['/api/payments', 'post'],
        ['/admin/orders/{id}', 'delete'],
        ['/admin/inventory/{productId}', 'patch'],
      ]) {
        expect(doc.paths[path!]?.[method!], `${method} ${path}`).toBeDefined();
      }
      const create = doc.paths['/api/orders'].post;
      const body = create.requestBody.content['application/json'].schema;
      expect(body.additionalProperties).toBe(false);
      expect(body.properties.items.items.properties.quantity).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000 });
      expect(create.parameters.map((p: { name: string }) => p.name)).toContain('Idempotency-Key');
      expect(doc.paths['/admin/orders/{id}'].delete.security).toEqual([{ bearer: [] }]);
      expect(doc.paths['/api/payments'].post.requestBody.content['application/json'].schema.properties.amount.type).toBe('string');
    });
  });

  it('wrote exactly one outbox row per accepted change, with the aggregate\'s new version (whole database)', async () => {
    const { actual, expected } = await api.outboxVersions();
    expect(Object.keys(expected).length).toBeGreaterThan(3);
    expect(actual).toEqual(expected);
  });
});

describe('write rate limit', () => {
  it('answers 429 with Retry-After once a client exceeds its budget, and changes nothing', async () => {
    const api = await startApi({ rateLimit: { perSecond: 1, burst: 2 } });
    try {
      const body = { email: 'rl@example.com', name: 'RL' };
      expect((await api.call('POST', '/api/users', body)).status).toBe(201);
      expect((await api.call('POST', '/api/users', { ...body, email: 'rl2@example.com' })).status).toBe(201);
      const before = await api.counts();
      const limited = await api.call('POST', '/api/users', { ...body, email: 'rl3@example.com' });
      expect(limited.status).toBe(429);
      expect(limited.body.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await api.counts()).toEqual(before);
      expect((await api.call('GET', '/api/products')).status).toBe(200); // reads are not limited
    } finally {
      await api.close();
    }
  });
});
