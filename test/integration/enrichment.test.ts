import { describe, expect, it } from 'vitest';
import { waitFor } from '../../core/retry.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { createProduct, registerUser } from '../../orders/catalog-service.js';
import { placeOrder } from '../../orders/order-service.js';
import { useIsolatedPipeline } from '../support/pipeline.js';

/**
 * Enrichment reads the users and products global stores. A user or product written just before
 * an order must be in them when the order is processed: the stores catch up with their topics'
 * ends before each batch, so a brand-new user or product never gets an empty name.
 */
describe('enrichment with brand-new users and products', () => {
  const isolated = useIsolatedPipeline(['api', 'relay', 'streams', 'sink']);

  it('enriches an order placed right after its user and product were created', async () => {
    const { pipeline, config } = isolated;
    const deps = { store: mysqlOrderStore(pipeline.pool!), signal: pipeline.relay };
    const expected = new Map<string, { user: string; product: string; category: string }>();
    for (let i = 0; i < 40; i++) {
      const user = await registerUser(deps, { email: `fresh${i}@enrichment.test`, name: `Fresh User ${i}` });
      const { product } = await createProduct(deps, { sku: `FRESH-${i}`, name: `Fresh Product ${i}`, category: `Fresh ${i % 3}`, price: '9.99', currency: 'EUR', initialStock: 10 });
      const { order } = await placeOrder(deps, { userId: user.id, items: [{ productId: product.id, quantity: 1 }] });
      expected.set(order.id, { user: user.name, product: product.name, category: product.category });
    }
    const db = config.clickhouse.database;
    const rows = await waitFor(
      async () => {
        const result = await pipeline.clickhouse!.query({
          query: `SELECT toString(order_id) AS id, user_name, items.product_name[1] AS product, items.category[1] AS category FROM ${db}.orders FINAL`,
          format: 'JSONEachRow',
        });
        const found = await result.json<{ id: string; user_name: string; product: string; category: string }>();
        return found.length >= expected.size ? found : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, describe: 'every order loaded' },
    );
    const seen = new Map(rows.map((row) => [row.id, { user: row.user_name, product: row.product, category: row.category }]));
    expect(Object.fromEntries(seen)).toEqual(Object.fromEntries(expected));
  }, 120_000);
});
