import { describe, expect, it } from 'vitest';
import type { OrderChange, OrderEnriched, OrderState } from '../../orders/records.js';
import { signedChanges } from '../../orders/records.js';
import type { Decoded } from '../../registry/avro-registry.js';
import type { KeyValueStore, Serde } from '../../streams/api.js';
import { buildShopstreamTopology } from '../../streams/shopstream/topology.js';
import { ORDER_STATE_STORE } from '../../streams/shopstream/order-versioning.js';
import { TopologyTestDriver } from '../../streams/test-driver.js';
import { topicNames } from '../../kafka/topics.js';

const unused: Serde<unknown> = {
  serialize: () => {
    throw new Error('the test driver bypasses serdes');
  },
  deserialize: () => {
    throw new Error('the test driver bypasses serdes');
  },
};
const topics = topicNames();

function orderCreated(orderId: string, total = '25.00', version = 1): Decoded {
  return {
    name: 'OrderCreated',
    fullName: 'dev.shopstream.orders.OrderCreated',
    schemaId: 1,
    value: {
      orderId,
      version,
      userId: 'u-1',
      status: 'PENDING',
      currency: 'USD',
      totalAmount: total,
      items: [{ lineNo: 1, productId: 'p-1', quantity: 2, unitPrice: '12.50', lineTotal: total }],
      createdAt: 1_764_000_000_000_000,
    },
  };
}

function driver() {
  return new TopologyTestDriver(buildShopstreamTopology(topics, { source: unused, enriched: unused, change: unused }));
}

describe('order-versioning processor', () => {
  it('emits the enriched order and a +1 change for a new order, carrying its version and commit time', () => {
    const d = driver();
    d.pipeInput(topics.orders, 'o-1', orderCreated('o-1'), { event_id: 'e-1', committed_at: '1764000000123456' });

    const [enriched] = d.readOutput<string, OrderEnriched>(topics.ordersEnriched);
    expect(enriched!.key).toBe('o-1');
    expect(enriched!.value).toMatchObject({ order_id: 'o-1', version: 1, is_deleted: false, status: 'PENDING', total_amount: '25.00', item_count: 2, committed_at: 1764000000123456 });

    const changes = d.readOutput<string, OrderChange>(topics.orderChanges);
    expect(changes.map((c) => [c.value.sign, c.value.counted, c.value.version])).toEqual([[1, true, 1]]);
    expect(d.getStateStore<KeyValueStore<string, OrderState>>(ORDER_STATE_STORE).get('o-1')?.version).toBe(1);
  });

  it('ignores a replayed or duplicated event (same version): nothing counted twice', () => {
    const d = driver();
    d.pipeInput(topics.orders, 'o-1', orderCreated('o-1'));
    d.readOutput(topics.orderChanges);
    d.pipeInput(topics.orders, 'o-1', orderCreated('o-1'));
    expect(d.readOutput(topics.orderChanges)).toEqual([]);
    expect(d.readOutput(topics.ordersEnriched)).toHaveLength(1);
  });

  it('keeps orders apart by key', () => {
    const d = driver();
    d.pipeInput(topics.orders, 'o-1', orderCreated('o-1', '10.00'));
    d.pipeInput(topics.orders, 'o-2', orderCreated('o-2', '20.00'));
    const changes = d.readOutput<string, OrderChange>(topics.orderChanges);
    expect(changes.map((c) => [c.key, c.value.total_amount])).toEqual([
      ['o-1', '10.00'],
      ['o-2', '20.00'],
    ]);
  });
});

describe('signed changes', () => {
  const state = (over: Partial<OrderState>): OrderState => ({
    orderId: 'o',
    version: 1,
    isDeleted: false,
    userId: 'u',
    userName: '',
    status: 'PENDING',
    currency: 'USD',
    totalAmount: '10.00',
    items: [],
    paymentMethod: '',
    paymentStatus: '',
    createdAt: 0,
    updatedAt: 0,
    committedAt: 0,
    ...over,
  });

  it('retracts the previous state and adds the new one, both at the new version', () => {
    const rows = signedChanges(state({}), state({ version: 2, status: 'CANCELLED' }));
    expect(rows.map((r) => [r.sign, r.version, r.status, r.counted])).toEqual([
      [-1, 2, 'PENDING', true],
      [1, 2, 'CANCELLED', false],
    ]);
  });

  it('nets to zero counted orders after a delete', () => {
    const rows = signedChanges(state({ status: 'PAID' }), state({ version: 3, status: 'PAID', isDeleted: true }));
    const counted = rows.filter((r) => r.counted).reduce((sum, r) => sum + r.sign, 0);
    expect(counted).toBe(-1); // the +1 from creation is cancelled out downstream
    expect(rows.find((r) => r.sign === 1)?.counted).toBe(false);
  });
});
