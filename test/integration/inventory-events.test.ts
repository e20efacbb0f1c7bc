import type { Pool } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../core/retry.js';
import { adjustInventory } from '../../orders/catalog-service.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { createMysqlPool } from '../../mysql/pool.js';
import { createTestDatabase, deleteTopics } from '../support/env.js';
import { readTopic, testRelay, testTopics, unpublishedCount, versionsByKey, type TestTopics } from '../support/relay.js';
import { runWorkload, seeded } from '../support/workload.js';

interface StockRow {
  productId: string;
  onHand: number;
  reserved: number;
  version: number;
}

/**
 * shop.inventory.v1 against MySQL (SPEC §3: every change of an inventory row writes its event in
 * the same transaction). Orders reserve, release and ship stock and administrators adjust it,
 * concurrently; the real relay publishes to the real Kafka. The topic then holds, per product,
 * one record per version of its row (none missing, in order), and its latest record is the row
 * as MySQL has it; the deltas add up to the row.
 */
describe('inventory events', () => {
  let pool: Pool;
  let t: TestTopics;
  let dropDatabase: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase();
    dropDatabase = database.drop;
    pool = createMysqlPool({ url: database.url, connectionLimit: 20 });
    t = await testTopics();
  });
  afterAll(async () => {
    await pool?.end();
    await dropDatabase?.();
    if (t) await deleteTopics(t.prefix);
  });

  const mysqlStock = async (): Promise<StockRow[]> => {
    const [rows] = (await pool.query('SELECT product_id, on_hand, reserved, version FROM inventory ORDER BY product_id')) as unknown as [
      { product_id: string; on_hand: number; reserved: number; version: number }[],
    ];
    return rows.map((r) => ({ productId: r.product_id, onHand: Number(r.on_hand), reserved: Number(r.reserved), version: Number(r.version) }));
  };

  it('carries every change of every stock row: its latest record per product is the row in MySQL', async () => {
    const random = seeded(10_007);
    let adjustments = 0;
    const { relay, close } = testRelay(pool, t);
    const deps = { store: mysqlOrderStore(pool), signal: relay };
    relay.start();
    try {
      await runWorkload(deps, {
        operations: 700,
        seed: 10_007,
        days: 3,
        concurrency: 8,
        progressEvery: 50,
        // Administrators adjust stock while orders reserve, release and ship it.
        onProgress: async () => {
          const [products] = (await pool.query('SELECT product_id FROM inventory ORDER BY product_id')) as unknown as [{ product_id: string }[]];
          await Promise.all(
            Array.from({ length: 3 }, async () => {
              const productId = products[Math.floor(random() * products.length)]!.product_id;
              await adjustInventory(deps, random() < 0.5 ? { productId, delta: Math.floor(random() * 200) - 50, reason: 'count' } : { productId, onHand: 900_000 + Math.floor(random() * 1000) });
              adjustments++;
            }),
          );
        },
      });
      await waitFor(async () => ((await unpublishedCount(pool)) === 0 ? true : undefined), { timeoutMs: 60_000, describe: 'the outbox published' });
    } finally {
      await close();
    }
    const truth = await mysqlStock();
    const expectedRecords = truth.reduce((sum, row) => sum + row.version, 0);
    const records = await readTopic(t.topics.inventory, t.registry, (r) => r.length >= expectedRecords);

    // One record per version of each row, in version order.
    const versions = versionsByKey(records);
    for (const row of truth) expect(versions.get(row.productId), row.productId).toEqual(Array.from({ length: row.version }, (_, i) => i + 1));
    expect(records).toHaveLength(expectedRecords);

    // The latest record of each product is the row; the deltas since creation add up to it.
    const latest = new Map<string, StockRow>();
    const sums = new Map<string, { onHand: number; reserved: number }>();
    for (const { key, value } of [...records].sort((a, b) => a.offset - b.offset)) {
      latest.set(key, { productId: key, onHand: Number(value.onHand), reserved: Number(value.reserved), version: Number(value.version) });
      const sum = sums.get(key) ?? { onHand: 0, reserved: 0 };
      sums.set(key, { onHand: sum.onHand + Number(value.delta), reserved: sum.reserved + Number(value.reservedDelta) });
    }
    expect([...latest.values()].sort((a, b) => (a.productId < b.productId ? -1 : 1))).toEqual(truth);
    for (const row of truth) expect(sums.get(row.productId), row.productId).toEqual({ onHand: row.onHand, reserved: row.reserved });

    // Every kind of change took part.
    const causes = new Set(records.map((r) => r.value.cause));
    expect([...causes].sort()).toEqual(['ADJUSTED', 'CREATED', 'RELEASED', 'RESERVED', 'SHIPPED']);
    expect(adjustments).toBeGreaterThan(0);
    expect(records.filter((r) => r.value.cause !== 'ADJUSTED' && r.value.cause !== 'CREATED').every((r) => typeof r.value.orderId === 'string')).toBe(true);
  });
});
