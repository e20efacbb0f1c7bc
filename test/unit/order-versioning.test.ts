import { describe, expect, it } from 'vitest';
import { isCounted, type OrderStatus } from '../../orders/model.js';
import type { OrderChange, OrderEnriched, OrderState } from '../../orders/records.js';
import type { Decoded } from '../../registry/avro-registry.js';
import type { KeyValueStore, Serde } from '../../streams/api.js';
import { buildShopstreamTopology } from '../../streams/shopstream/topology.js';
import { ORDER_STATE_STORE } from '../../streams/shopstream/order-versioning.js';
import { TopologyTestDriver } from '../../streams/test-driver.js';
import { topicNames } from '../../kafka/topics.js';

const bypassed: Serde<any> = {
  serialize: () => {
    throw new Error('the test driver bypasses serdes');
  },
  deserialize: () => {
    throw new Error('the test driver bypasses serdes');
  },
};
const topics = topicNames();
const USER = '00000000-0000-4000-8000-0000000000a1';
const PRODUCT = '00000000-0000-4000-8000-0000000000b1';

const event = (name: string, value: Record<string, unknown>): Decoded => ({ name, fullName: `dev.shopstream.orders.${name}`, schemaId: 1, value });
const created = (orderId: string, total = '25.00') =>
  event('OrderCreated', {
    orderId,
    version: 1,
    userId: USER,
    status: 'PENDING',
    currency: 'USD',
    totalAmount: total,
    items: [{ lineNo: 1, productId: PRODUCT, quantity: 2, unitPrice: '12.50', lineTotal: total }],
    createdAt: 1_764_000_000_000_000,
  });
const statusChanged = (orderId: string, version: number, status: OrderStatus, paymentMethod: string | null = null) =>
  event('OrderStatusChanged', { orderId, version, previousStatus: 'X', status, paymentMethod, changedAt: 1_764_000_100_000_000 + version });
const cancelled = (orderId: string, version: number) => event('OrderCancelled', { orderId, version, previousStatus: 'X', reason: null, cancelledAt: 1_764_000_200_000_000 });
const refunded = (orderId: string, version: number) => event('OrderRefunded', { orderId, version, previousStatus: 'X', refundedAt: 1_764_000_300_000_000 });
const snapshot = (orderId: string, version: number, status: OrderStatus, extra: { paymentMethod?: string | null; deletedAt?: number | null; total?: string } = {}) =>
  event('OrderSnapshot', {
    orderId,
    version,
    userId: USER,
    status,
    currency: 'USD',
    totalAmount: extra.total ?? '25.00',
    items: [{ lineNo: 1, productId: PRODUCT, quantity: 2, unitPrice: '12.50', lineTotal: extra.total ?? '25.00' }],
    paymentMethod: extra.paymentMethod ?? null,
    createdAt: 1_764_000_000_000_000,
    updatedAt: 1_764_000_500_000_000,
    deletedAt: extra.deletedAt ?? null,
  });
const deleted = (orderId: string, version: number) => event('OrderDeleted', { orderId, version, deletedBy: 'alice', reason: 'test', deletedAt: 1_764_000_400_000_000 });

function driver() {
  const d = new TopologyTestDriver(buildShopstreamTopology(topics, { source: bypassed, enriched: bypassed, change: bypassed, canary: bypassed }));
  d.pipeInput(topics.users, USER, event('UserRegistered', { userId: USER, version: 1, email: 'a@b.c', name: 'Ada', registeredAt: 0 }));
  d.pipeInput(topics.products, PRODUCT, event('ProductUpserted', { productId: PRODUCT, version: 1, sku: 'S', name: 'Lamp', category: 'Home', price: '12.50', currency: 'USD', updatedAt: 0 }));
  return d;
}
const changes = (d: TopologyTestDriver) => d.readOutput<string, OrderChange>(topics.orderChanges).map((r) => r.value);
const signed = (rows: OrderChange[]) => rows.map((c) => [c.sign, c.version, c.status, c.counted]);

describe('order-versioning processor', () => {
  it('emits the enriched order and a +1 change for a new order, enriched from the global stores', () => {
    const d = driver();
    d.pipeInput(topics.orders, 'o-1', created('o-1'), { event_id: 'e-1', committed_at: '1764000000123456' });
    const [enriched] = d.readOutput<string, OrderEnriched>(topics.ordersEnriched);
    expect(enriched!.key).toBe('o-1');
    expect(enriched!.value).toMatchObject({ order_id: 'o-1', version: 1, is_deleted: false, user_name: 'Ada', status: 'PENDING', total_amount: '25.00', item_count: 2, committed_at: 1764000000123456 });
    expect(enriched!.value.items).toEqual([{ line_no: 1, product_id: PRODUCT, product_name: 'Lamp', category: 'Home', quantity: 2, unit_price: '12.50', line_total: '25.00' }]);
    const [change] = changes(d);
    expect(change).toMatchObject({ sign: 1, counted: true, version: 1, items: [{ product_id: PRODUCT, product_name: 'Lamp', category: 'Home', quantity: 2, line_total: '25.00' }] });
    expect(d.getStateStore<KeyValueStore<string, OrderState>>(ORDER_STATE_STORE).get('o-1')?.version).toBe(1);
  });

  it('retracts the previous state and adds the new one on every change, carrying the payment method', () => {
    const d = driver();
    d.pipeInput(topics.orders, 'o-1', created('o-1'));
    d.pipeInput(topics.orders, 'o-1', statusChanged('o-1', 2, 'PAID', 'CARD'));
    d.pipeInput(topics.orders, 'o-1', statusChanged('o-1', 3, 'SHIPPED'));
    d.pipeInput(topics.orders, 'o-1', refunded('o-1', 4));
    const rows = changes(d);
    expect(signed(rows)).toEqual([
      [1, 1, 'PENDING', true],
      [-1, 2, 'PENDING', true],
      [1, 2, 'PAID', true],
      [-1, 3, 'PAID', true],
      [1, 3, 'SHIPPED', true],
      [-1, 4, 'SHIPPED', true],
      [1, 4, 'REFUNDED', false],
    ]);
    expect(rows.filter((r) => r.version >= 2).map((r) => r.payment_method)).toEqual(['', 'CARD', 'CARD', 'CARD', 'CARD', 'CARD']);
    const last = d.readOutput<string, OrderEnriched>(topics.ordersEnriched).pop()!.value;
    expect(last).toMatchObject({ version: 4, status: 'REFUNDED', payment_method: 'CARD', payment_status: 'REFUNDED' });
  });

  it('turns a delete into is_deleted with a higher version, no longer counted', () => {
    const d = driver();
    d.pipeInput(topics.orders, 'o-1', created('o-1'));
    d.pipeInput(topics.orders, 'o-1', deleted('o-1', 2));
    const rows = changes(d);
    expect(rows.map((r) => [r.sign, r.is_deleted, r.counted])).toEqual([
      [1, false, true],
      [-1, false, true],
      [1, true, false],
    ]);
    expect(d.readOutput<string, OrderEnriched>(topics.ordersEnriched).pop()!.value).toMatchObject({ version: 2, is_deleted: true });
  });

  it('ignores replays and duplicates (not a newer version), and changes of orders it never saw', () => {
    const d = driver();
    d.pipeInput(topics.orders, 'o-1', created('o-1'));
    d.pipeInput(topics.orders, 'o-1', cancelled('o-1', 2));
    changes(d);
    d.pipeInput(topics.orders, 'o-1', created('o-1'));
    d.pipeInput(topics.orders, 'o-1', cancelled('o-1', 2));
    d.pipeInput(topics.orders, 'o-2', cancelled('o-2', 2));
    expect(changes(d)).toEqual([]);
  });

  it('takes the payment method from the payments table when the order event lacks it', () => {
    const d = driver();
    d.pipeInput(topics.orders, 'o-1', created('o-1'));
    d.pipeInput(topics.payments, 'o-1', event('PaymentCaptured', { paymentId: 'p', orderId: 'o-1', version: 1, method: 'PAYPAL', status: 'CAPTURED', amount: '25.00', currency: 'USD', capturedAt: 0 }));
    d.pipeInput(topics.orders, 'o-1', statusChanged('o-1', 2, 'PAID', null));
    expect(changes(d).pop()).toMatchObject({ status: 'PAID', payment_method: 'PAYPAL' });
  });

  it('takes a snapshot of an order it never saw as the order, enriched from the global stores', () => {
    const d = driver();
    d.pipeInput(topics.orders, 'o-s', snapshot('o-s', 3, 'PAID', { paymentMethod: 'CARD' }));
    const [enriched] = d.readOutput<string, OrderEnriched>(topics.ordersEnriched);
    expect(enriched!.value).toMatchObject({ order_id: 'o-s', version: 3, status: 'PAID', user_name: 'Ada', payment_method: 'CARD', payment_status: 'CAPTURED', is_deleted: false });
    expect(enriched!.value.items[0]).toMatchObject({ product_name: 'Lamp', category: 'Home' });
    expect(signed(changes(d))).toEqual([[1, 3, 'PAID', true]]);
  });

  it('replaces an older state with a newer snapshot (retracting what was counted) and ignores one not newer', () => {
    const d = driver();
    d.pipeInput(topics.orders, 'o-s', created('o-s'));
    // Versions 2 and 3 were written around the pipeline; the snapshot read version 3.
    d.pipeInput(topics.orders, 'o-s', snapshot('o-s', 3, 'CANCELLED', { total: '30.00' }));
    d.pipeInput(topics.orders, 'o-s', snapshot('o-s', 3, 'CANCELLED', { total: '30.00' })); // a second snapshot
    d.pipeInput(topics.orders, 'o-s', snapshot('o-s', 2, 'PAID')); // older than the state
    expect(signed(changes(d))).toEqual([
      [1, 1, 'PENDING', true],
      [-1, 3, 'PENDING', true],
      [1, 3, 'CANCELLED', false],
    ]);
    // A change after the snapshot applies to the snapshot's state.
    d.pipeInput(topics.orders, 'o-s', deleted('o-s', 4));
    expect(signed(changes(d))).toEqual([
      [-1, 4, 'CANCELLED', false],
      [1, 4, 'CANCELLED', false],
    ]);
    expect(d.getStateStore<KeyValueStore<string, OrderState>>(ORDER_STATE_STORE).get('o-s')).toMatchObject({ version: 4, totalAmount: '30.00', isDeleted: true });
  });

  it('takes a snapshot of a deleted order as deleted, counted nowhere', () => {
    const d = driver();
    d.pipeInput(topics.orders, 'o-s', created('o-s'));
    d.pipeInput(topics.orders, 'o-s', snapshot('o-s', 5, 'PAID', { paymentMethod: 'CARD', deletedAt: 1_764_000_400_000_000 }));
    const rows = changes(d).slice(1);
    expect(rows.map((c) => [c.sign, c.version, c.counted, c.is_deleted])).toEqual([
      [-1, 5, true, false],
      [1, 5, false, true],
    ]);
  });

  it('keeps sums over counted signed rows equal to the current states, for random histories', () => {
    const d = driver();
    const finals = new Map<string, { status: OrderStatus; isDeleted: boolean }>();
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const next: Record<OrderStatus, OrderStatus[]> = { PENDING: ['PAID', 'CANCELLED'], PAID: ['SHIPPED', 'CANCELLED', 'REFUNDED'], SHIPPED: ['COMPLETED', 'REFUNDED'], COMPLETED: ['REFUNDED'], CANCELLED: [], REFUNDED: [] };
    for (let o = 0; o < 200; o++) {
      const id = `o-${o}`;
      d.pipeInput(topics.orders, id, created(id, `${(o % 50) + 1}.00`));
      let state = { status: 'PENDING' as OrderStatus, isDeleted: false, version: 1 };
      for (let step = 0; step < 4 && !state.isDeleted; step++) {
        const version = state.version + 1;
        if (random() < 0.1) {
          d.pipeInput(topics.orders, id, deleted(id, version));
          state = { ...state, isDeleted: true, version };
          continue;
        }
        const options = next[state.status];
        if (options.length === 0) break;
        const status = options[Math.floor(random() * options.length)]!;
        const e = status === 'CANCELLED' ? cancelled(id, version) : status === 'REFUNDED' ? refunded(id, version) : statusChanged(id, version, status, status === 'PAID' ? 'CARD' : null);
        d.pipeInput(topics.orders, id, e);
        if (random() < 0.2) d.pipeInput(topics.orders, id, e); // a duplicate
        state = { ...state, status, version };
      }
      finals.set(id, state);
    }
    const total = new Map<string, number>();
    for (const row of changes(d)) if (row.counted) total.set(row.order_id, (total.get(row.order_id) ?? 0) + row.sign);
    for (const [id, final] of finals) expect(total.get(id) ?? 0, id).toBe(isCounted(final) ? 1 : 0);
  });
});
