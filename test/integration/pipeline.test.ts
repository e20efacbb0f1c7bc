import { describe, expect, it } from 'vitest';
import { useIsolatedPipeline } from '../support/pipeline.js';
import { createKafka } from '../../kafka/client.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { createProduct, registerUser } from '../../orders/catalog-service.js';
import { AvroRegistry } from '../../registry/avro-registry.js';
import { entry } from '../support/env.js';
import { waitFor } from '../../core/retry.js';

/**
 * The walking skeleton against the real stack: POST /api/orders → MySQL (order + outbox in one
 * transaction) → relay → Kafka as Avro → streams → ClickHouse → GET /api/analytics/daily-sales.
 */
describe('one order through every stage', () => {
  const isolated = useIsolatedPipeline(['api', 'relay', 'streams', 'sink']);

  it('makes a posted order queryable in the daily sales, exactly', async () => {
    const deps = { store: mysqlOrderStore(isolated.pipeline.pool!), signal: isolated.pipeline.relay };
    const user = await registerUser(deps, { email: 'flow@example.com', name: 'Flow Tester' });
    const { product } = await createProduct(deps, { sku: 'FLOW-1', name: 'Flow widget', category: 'Test', price: '19.99', currency: 'USD', initialStock: 100 });

    const response = await fetch(`${isolated.pipeline.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: user.id, items: [{ productId: product.id, quantity: 3 }] }),
    });
    expect(response.status).toBe(201);
    const order = (await response.json()) as { id: string; totalAmount: string; createdAt: string; version: number };
    expect(order.totalAmount).toBe('59.97');
    expect(order.version).toBe(1);

    const day = order.createdAt.slice(0, 10);
    const sales = await waitFor(
      async () => {
        const res = await fetch(`${isolated.pipeline.url}/api/analytics/daily-sales?from=${day}&to=${day}`);
        const body = (await res.json()) as unknown[];
        return body.length > 0 ? body : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, describe: 'the order in the daily sales' },
    );
    expect(sales).toEqual([{ date: day, orders: 1, revenue: '59.97', avgOrderValue: '59.97' }]);

    // The latest state in ClickHouse matches MySQL row for row (the two topics load independently).
    const rows = await waitFor(
      async () => {
        const result = await isolated.pipeline.clickhouse!.query({
          query: `SELECT toString(order_id) AS id, version, status, toString(total_amount) AS total, is_deleted
                  FROM ${isolated.config.clickhouse.database}.orders FINAL`,
          format: 'JSONEachRow',
        });
        const found = await result.json();
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, describe: 'the order in analytics.orders' },
    );
    expect(rows).toEqual([{ id: order.id, version: '1', status: 'PENDING', total: '59.97', is_deleted: 0 }]);
    const [[mysqlRow]] = (await isolated.pipeline.pool!.query('SELECT id, version, status, total_amount FROM orders')) as unknown as [[Record<string, unknown>]];
    expect(mysqlRow).toEqual({ id: order.id, version: 1, status: 'PENDING', total_amount: '59.97' });
  });

  it('published the event as registered Avro with the outbox headers', async () => {
    const registry = new AvroRegistry({ url: entry.registryUrl });
    const consumer = createKafka(entry.kafka).consumer({ kafkaJS: { groupId: `probe-${Date.now()}`, fromBeginning: true } });
    await consumer.connect();
    await consumer.subscribe({ topics: [isolated.pipeline.topics.orders] });
    const seen: { headers: Record<string, string>; name: string }[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        seen.push({ headers, name: (await registry.decode(message.value)).name });
      },
    });
    await waitFor(async () => (seen.length >= 1 ? true : undefined), { timeoutMs: 20_000, describe: 'the OrderCreated record' });
    await consumer.disconnect();
    const [event] = seen;
    expect(event!.name).toBe('OrderCreated');
    expect(event!.headers.event_type).toBe('OrderCreated');
    expect(event!.headers.event_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(event!.headers.committed_at)).toBeGreaterThan(Date.UTC(2020, 0, 1) * 1000);
    expect(event!.headers.schema_subject).toBe(`${isolated.pipeline.topics.orders}-dev.shopstream.orders.OrderCreated`);
  });
});
