import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct, registerUser } from '../../orders/catalog-service.js';
import { startApi, type ApiHarness } from '../support/api.js';

/**
 * Input the columns cannot hold is refused before it reaches MySQL (where it used to be a 500):
 * totals beyond DECIMAL(12,2), stock beyond its bound, cursors naming impossible positions.
 */
describe('bad input never becomes a 500', () => {
  let api: ApiHarness;
  let userId: string;
  let priciest: string; // 9,999,999,999.99: the largest price
  let half: string; // 5,000,000,000.00
  let bulk: string; // 10,000,000 on hand: the largest stock
  const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const admin = () => ({ Authorization: `Bearer ${api.adminToken}` });

  beforeAll(async () => {
    api = await startApi();
    userId = (await registerUser(api.deps, { email: 'big@example.com', name: 'Big Spender' })).id;
    const product = (sku: string, price: string, initialStock: number) =>
      createProduct(api.deps, { sku, name: sku, category: 'Luxury', price, currency: 'USD', initialStock }).then((created) => created.product.id);
    priciest = await product('YACHT', '9999999999.99', 1_000);
    half = await product('ISLAND', '5000000000.00', 1_000);
    bulk = await product('SAND', '0.01', 10_000_000);
  });
  afterAll(() => api?.close());

  async function refused(method: string, path: string, body: unknown, status: number, code: string, field?: string, headers?: Record<string, string>) {
    const before = await api.counts();
    const response = await api.call(method, path, body, headers);
    expect(response.status, JSON.stringify(response.body)).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.code).toBe(code);
    if (field) expect(response.body.fields.map((f: { field: string }) => f.field)).toContain(field);
    expect(await api.counts()).toEqual(before);
  }

  it('accepts the largest total DECIMAL(12,2) holds and refuses a line or an order beyond it with 422 AMOUNT_TOO_LARGE', async () => {
    const largest = await api.call('POST', '/api/orders', { userId, items: [{ productId: priciest, quantity: 1 }] });
    expect(largest.status).toBe(201);
    expect(largest.body.totalAmount).toBe('9999999999.99');
    await refused('POST', '/api/orders', { userId, items: [{ productId: priciest, quantity: 2 }] }, 422, 'AMOUNT_TOO_LARGE', '/items/0');
    await refused('POST', '/api/orders', { userId, items: [{ productId: half, quantity: 1 }, { productId: half, quantity: 1 }] }, 422, 'AMOUNT_TOO_LARGE', '/items');
    const most = Array.from({ length: 100 }, () => ({ productId: priciest, quantity: 9 }));
    await refused('POST', '/api/orders', { userId, items: most }, 422, 'AMOUNT_TOO_LARGE', '/items/0');
    // Under an Idempotency-Key the refusal stores nothing: the key still works for a valid body.
    const key = { 'Idempotency-Key': 'too-large-then-fine' };
    await refused('POST', '/api/orders', { userId, items: [{ productId: priciest, quantity: 3 }] }, 422, 'AMOUNT_TOO_LARGE', '/items/0', key);
    expect((await api.call('POST', '/api/orders', { userId, items: [{ productId: half, quantity: 1 }] }, key)).status).toBe(201);
  });

  it('bounds prices and payment amounts to DECIMAL(12,2) in the schema', async () => {
    await refused('POST', '/admin/products', { sku: 'BIG', name: 'Big', category: 'X', price: '10000000000.00' }, 400, 'VALIDATION_FAILED', '/price', admin());
    await refused('PATCH', `/admin/products/${half}`, { price: '99999999999' }, 400, 'VALIDATION_FAILED', '/price', admin());
    const placed = (await api.call('POST', '/api/orders', { userId, items: [{ productId: half, quantity: 1 }] })).body;
    await refused('POST', '/api/payments', { orderId: placed.id, method: 'CARD', amount: '1e30' }, 400, 'VALIDATION_FAILED', '/amount');
    await refused('POST', '/api/payments', { orderId: placed.id, method: 'CARD', amount: 5e9 }, 400, 'VALIDATION_FAILED', '/amount');
  });

  it('keeps stock on hand within 10,000,000 whatever deltas add up to (422 STOCK_TOO_LARGE)', async () => {
    await refused('PATCH', `/admin/inventory/${bulk}`, { delta: 1 }, 422, 'STOCK_TOO_LARGE', '/delta', admin());
    await refused('PATCH', `/admin/inventory/${bulk}`, { delta: 2 ** 31 }, 400, 'VALIDATION_FAILED', '/delta', admin());
    await refused('PATCH', `/admin/inventory/${bulk}`, { onHand: 10_000_001 }, 400, 'VALIDATION_FAILED', '/onHand', admin());
    const down = await api.call('PATCH', `/admin/inventory/${bulk}`, { delta: -10 }, admin());
    expect(down.body.onHand).toBe(9_999_990);
  });

  it('refuses absurd cursors with 400 query:/cursor', async () => {
    const order = (await api.call('POST', '/api/orders', { userId, items: [{ productId: half, quantity: 1 }] })).body;
    const absurd = [
      cursorOf({ c: 1e300, i: order.id }),
      cursorOf({ c: -1e20, i: order.id }),
      cursorOf({ c: 2 ** 60, i: order.id }),
      cursorOf({ c: 1.5, i: order.id }),
      cursorOf({ c: '1', i: order.id }),
      cursorOf({ c: 0, i: 'x'.repeat(100) }),
      cursorOf({ c: 0, i: order.id, extra: true }),
      cursorOf([1, 2]),
      cursorOf(null),
      '!!!not-base64!!!',
      '%E0%A4%A',
    ];
    for (const cursor of absurd) {
      for (const path of ['/api/orders', `/api/orders/user/${userId}`, '/api/products']) {
        const response = await api.call('GET', `${path}?cursor=${encodeURIComponent(cursor)}`);
        expect(response.status, `${path} ${cursor} ${JSON.stringify(response.body)}`).toBe(400);
        expect(response.body.fields.map((f: { field: string }) => f.field)).toEqual(['query:/cursor']);
      }
    }
    // A real one still pages.
    const page = await api.call('GET', `/api/orders?limit=1&cursor=${cursorOf({ c: Date.now() * 1000 + 1e9, i: order.id })}`);
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(1);
  });

  it('answers a path that is not valid percent-encoding with 400 problem+json', async () => {
    for (const path of ['/api/orders/%E0%A4%A', '/api/products/%', '/admin/orders/%zz']) {
      const response = await api.call('GET', path);
      expect(response.status, path).toBeLessThan(500);
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });
});
