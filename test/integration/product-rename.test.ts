import { describe, expect, it } from 'vitest';
import { waitFor } from '../../core/retry.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { createProduct, registerUser, updateProduct } from '../../orders/catalog-service.js';
import { placeOrder } from '../../orders/order-service.js';
import { useIsolatedPipeline } from '../support/pipeline.js';
import { driftOf } from '../support/truth.js';

/**
 * A product renamed after it sold: the order rows keep the name their versions were enriched
 * with (like an invoice's lines), new orders carry the new name, and top products shows the
 * catalog's current name, as MySQL does (drift 0).
 */
describe('a product rename', () => {
  const isolated = useIsolatedPipeline(['api', 'relay', 'streams', 'sink']);

  it('shows the current name in top products and keeps the old one on the orders placed before it', async () => {
    const { pipeline, config } = isolated;
    const deps = { store: mysqlOrderStore(pipeline.pool!), signal: pipeline.relay };
    const user = await registerUser(deps, { email: 'rename@example.com', name: 'Renata' });
    const { product } = await createProduct(deps, { sku: 'MUG-1', name: 'Mug', category: 'Kitchen', price: '12.00', currency: 'EUR', initialStock: 100 });
    const before = await placeOrder(deps, { userId: user.id, items: [{ productId: product.id, quantity: 2 }] });
    const db = config.clickhouse.database;
    const itemNames = async () => {
      const result = await pipeline.clickhouse!.query({ query: `SELECT toString(order_id) AS id, items.product_name[1] AS name FROM ${db}.orders FINAL ORDER BY id`, format: 'JSONEachRow' });
      return Object.fromEntries((await result.json<{ id: string; name: string }>()).map((row) => [row.id, row.name]));
    };
    await waitFor(async () => ((await itemNames())[before.order.id] ? true : undefined), { timeoutMs: 30_000, describe: 'the first order loaded' });

    await updateProduct(deps, { productId: product.id, name: 'Coffee Mug', category: 'Kitchen & Dining' });
    const after = await placeOrder(deps, { userId: user.id, items: [{ productId: product.id, quantity: 1 }] });

    const day = new Date().toISOString().slice(0, 10);
    await waitFor(async () => ((await driftOf(pipeline.pool!, pipeline.clickhouse!, db, [user.id], 1)).length === 0 ? true : undefined), { timeoutMs: 30_000, describe: 'drift 0' });
    const top = await (await fetch(`${pipeline.url}/api/analytics/top-products?from=${day}&to=${day}`)).json();
    expect(top).toEqual([{ productId: product.id, name: 'Coffee Mug', units: 3, revenue: '36.00' }]);
    await waitFor(async () => ((await itemNames())[after.order.id] ? true : undefined), { timeoutMs: 30_000, describe: 'the second order loaded' });
    expect(await itemNames()).toEqual({ [before.order.id]: 'Mug', [after.order.id]: 'Coffee Mug' });
  }, 120_000);
});
