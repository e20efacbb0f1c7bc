import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct, registerUser } from '../../orders/catalog-service.js';
import { startApi, type ApiHarness } from '../support/api.js';

describe('stock under concurrency', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api?.close());

  it('50 parallel orders for the last 10 units: exactly 10 succeed, stock never negative, 10 OrderCreated', async () => {
    const productId = (await createProduct(api.deps, { sku: 'LAST-10', name: 'Rare', category: 'Rare', price: '99.00', currency: 'USD', initialStock: 10 })).product.id;
    const users = await Promise.all(Array.from({ length: 5 }, (_, i) => registerUser(api.deps, { email: `c${i}@example.com`, name: `C${i}` })));
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => api.call('POST', '/api/orders', { userId: users[i % 5]!.id, items: [{ productId, quantity: 1 }] })),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 409)).toHaveLength(40);
    expect(responses.filter((r) => r.status === 409).every((r) => r.body.code === 'INSUFFICIENT_STOCK')).toBe(true);
    const stock = (await api.call('GET', `/api/inventory/${productId}`)).body;
    expect(stock).toMatchObject({ onHand: 10, reserved: 10, available: 0 });
    const [[created]] = (await api.pool.query(
      "SELECT COUNT(*) AS n FROM outbox o JOIN order_items i ON i.order_id = o.aggregate_id WHERE o.event_type = 'OrderCreated' AND i.product_id = ?",
      [productId],
    )) as unknown as [[{ n: number }]];
    expect(Number(created!.n)).toBe(10);
  });
});
