import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct, registerUser } from '../../orders/catalog-service.js';
import { startApi, type ApiHarness } from '../support/api.js';

/** The order and payment API against the real MariaDB: every success path and its bad inputs. */
describe('orders and payments API', () => {
  let api: ApiHarness;
  let userId: string;
  let widget: string; // 19.99, 100 in stock
  let gadget: string; // 5.00, 5 in stock

  beforeAll(async () => {
    api = await startApi();
    userId = (await registerUser(api.deps, { email: 'buyer@example.com', name: 'Buyer' })).id;
    widget = (await createProduct(api.deps, { sku: 'W-1', name: 'Widget', category: 'Tools', price: '19.99', currency: 'USD', initialStock: 100 })).product.id;
    gadget = (await createProduct(api.deps, { sku: 'G-1', name: 'Gadget', category: 'Toys', price: '5.00', currency: 'USD', initialStock: 5 })).product.id;
  });
  afterAll(() => api?.close());

  const order = (items: { productId: string; quantity: number }[] = [{ productId: widget, quantity: 1 }]) => ({ userId, items });
  const outboxOf = async (aggregateId: string) =>
    ((await api.pool.query('SELECT event_type, aggregate_type, aggregate_version FROM outbox WHERE aggregate_id = ? ORDER BY id', [aggregateId])) as unknown as [
      { event_type: string; aggregate_type: string; aggregate_version: number }[],
    ])[0];

  /** Asserts the request is refused with `status`/`code` (and `field`) and that nothing changed. */
  async function refused(method: string, path: string, body: unknown, status: number, code: string, field?: string, headers?: Record<string, string>) {
    const before = await api.counts();
    const response = await api.call(method, path, body, headers);
    expect(response.status, JSON.stringify(response.body)).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.code).toBe(code);
    expect(response.body.status).toBe(status);
    if (field) expect(response.body.fields.map((f: { field: string }) => f.field)).toContain(field);
    expect(await api.counts()).toEqual(before);
    return response.body;
  }

  describe('POST /api/orders', () => {
    it('creates the order with catalog prices, reserves stock and writes one OrderCreated', async () => {
      const before = await api.counts();
      const response = await api.call('POST', '/api/orders', order([{ productId: widget, quantity: 3 }, { productId: gadget, quantity: 1 }]));
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ userId, status: 'PENDING', totalAmount: '64.97', currency: 'USD', version: 1 });
      expect(response.body.items).toEqual([
        { lineNo: 1, productId: widget, quantity: 3, unitPrice: '19.99', lineTotal: '59.97' },
        { lineNo: 2, productId: gadget, quantity: 1, unitPrice: '5.00', lineTotal: '5.00' },
      ]);
      expect(response.headers.get('location')).toBe(`/api/orders/${response.body.id}`);
      expect(response.headers.get('etag')).toBe('"1"');
      expect(await outboxOf(response.body.id)).toEqual([{ event_type: 'OrderCreated', aggregate_type: 'order', aggregate_version: 1 }]);
      const after = await api.counts();
      expect(after.orders - before.orders).toBe(1);
      expect(after.reserved - before.reserved).toBe(4);
    });

    it('rejects wrong types, missing and unknown fields, bad quantities, with the offending field', async () => {
      await refused('POST', '/api/orders', { userId: 123, items: [{ productId: widget, quantity: 1 }] }, 400, 'VALIDATION_FAILED', '/userId');
      await refused('POST', '/api/orders', { userId, items: [{ productId: widget, quantity: '2' }] }, 400, 'VALIDATION_FAILED', '/items/0/quantity');
      await refused('POST', '/api/orders', { userId }, 400, 'VALIDATION_FAILED', '/items');
      await refused('POST', '/api/orders', { userId, items: [] }, 400, 'VALIDATION_FAILED', '/items');
      await refused('POST', '/api/orders', { ...order(), coupon: 'FREE' }, 400, 'VALIDATION_FAILED', '/coupon');
      await refused('POST', '/api/orders', { userId, items: [{ productId: widget, quantity: 1, price: '0.01' }] }, 400, 'VALIDATION_FAILED', '/items/0/price');
      await refused('POST', '/api/orders', order([{ productId: widget, quantity: 0 }]), 400, 'VALIDATION_FAILED', '/items/0/quantity');
      await refused('POST', '/api/orders', order([{ productId: widget, quantity: 1001 }]), 400, 'VALIDATION_FAILED', '/items/0/quantity');
      await refused('POST', '/api/orders', order([{ productId: widget, quantity: 1.5 }]), 400, 'VALIDATION_FAILED', '/items/0/quantity');
      await refused('POST', '/api/orders', order([{ productId: 'not-a-uuid', quantity: 1 }]), 400, 'VALIDATION_FAILED', '/items/0/productId');
    });

    it('rejects malformed JSON, an oversize body, unknown users and products', async () => {
      await refused('POST', '/api/orders', '{"userId": ', 400, 'MALFORMED_JSON');
      const huge = { userId, items: [{ productId: widget, quantity: 1 }], padding: 'x'.repeat(70_000) };
      await refused('POST', '/api/orders', huge, 413, 'PAYLOAD_TOO_LARGE');
      await refused('POST', '/api/orders', { ...order(), userId: '00000000-0000-4000-8000-00000000dead' }, 404, 'USER_NOT_FOUND');
      await refused('POST', '/api/orders', order([{ productId: widget, quantity: 1 }, { productId: '00000000-0000-4000-8000-00000000beef', quantity: 1 }]), 400, 'VALIDATION_FAILED', '/items/1/productId');
    });

    it('refuses an order it cannot stock, undoing the reservations of its other lines', async () => {
      await refused('POST', '/api/orders', order([{ productId: widget, quantity: 1 }, { productId: gadget, quantity: 50 }]), 409, 'INSUFFICIENT_STOCK');
    });

    it('honours Idempotency-Key: same body → same response and one order; other body → 422', async () => {
      const key = { 'Idempotency-Key': `order-${Date.now()}` };
      const first = await api.call('POST', '/api/orders', order(), key);
      const before = await api.counts();
      const second = await api.call('POST', '/api/orders', order(), key);
      expect(second.status).toBe(201);
      expect(second.body).toEqual(first.body);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(await api.counts()).toEqual(before);
      await refused('POST', '/api/orders', order([{ productId: widget, quantity: 2 }]), 422, 'IDEMPOTENCY_KEY_REUSED', undefined, key);
      await refused('POST', '/api/orders', order(), 400, 'VALIDATION_FAILED', 'header:Idempotency-Key', { 'Idempotency-Key': 'x'.repeat(201) });
    });
  });

  describe('reading orders', () => {
    it('gets an order; 404 for an unknown one, 400 for a malformed id', async () => {
      const created = (await api.call('POST', '/api/orders', order())).body;
      const got = await api.call('GET', `/api/orders/${created.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(created);
      expect((await api.call('GET', '/api/orders/00000000-0000-4000-8000-000000000000')).body.code).toBe('ORDER_NOT_FOUND');
      expect((await api.call('GET', '/api/orders/nope')).status).toBe(400);
    });

    it('pages through orders newest first with a cursor, filtered by user and status', async () => {
      const other = (await registerUser(api.deps, { email: 'pager@example.com', name: 'Pager' })).id;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await api.call('POST', '/api/orders', { userId: other, items: [{ productId: widget, quantity: 1 }] })).body.id);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `/api/orders?userId=${other}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await api.call('GET', query);
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((o: { id: string }) => o.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
      const byUser = await api.call('GET', `/api/orders/user/${other}?limit=100`);
      expect(byUser.body.items).toHaveLength(5);
      await api.call('POST', `/api/orders/${ids[0]}/cancel`, {});
      const cancelled = await api.call('GET', `/api/orders?userId=${other}&status=CANCELLED`);
      expect(cancelled.body.items.map((o: { id: string }) => o.id)).toEqual([ids[0]]);
      expect((await api.call('GET', '/api/orders?cursor=garbage')).body.fields[0].field).toBe('query:/cursor');
      expect((await api.call('GET', '/api/orders?limit=0')).status).toBe(400);
      expect((await api.call('GET', '/api/orders?limit=101')).status).toBe(400);
      expect((await api.call('GET', '/api/orders?status=LOST')).status).toBe(400);
      expect((await api.call('GET', '/api/orders?sort=asc')).body.fields[0].field).toBe('query:/sort');
    });
  });

  describe('status changes', () => {
    it('refuses transitions outside the machine, PAID without payment, and a stale If-Match', async () => {
      const created = (await api.call('POST', '/api/orders', order())).body;
      await refused('PATCH', `/api/orders/${created.id}/status`, { status: 'COMPLETED' }, 409, 'INVALID_TRANSITION');
      await refused('PATCH', `/api/orders/${created.id}/status`, { status: 'SHIPPED' }, 409, 'INVALID_TRANSITION');
      await refused('PATCH', `/api/orders/${created.id}/status`, { status: 'PAID' }, 409, 'PAYMENT_REQUIRED');
      await refused('PATCH', `/api/orders/${created.id}/status`, { status: 'GONE' }, 400, 'VALIDATION_FAILED', '/status');
      await refused('POST', `/api/orders/${created.id}/cancel`, {}, 409, 'VERSION_CONFLICT', undefined, { 'If-Match': '"7"' });
      await refused('POST', `/api/orders/${created.id}/cancel`, {}, 400, 'VALIDATION_FAILED', 'header:If-Match', { 'If-Match': 'abc' });
      await refused('PATCH', '/api/orders/00000000-0000-4000-8000-000000000000/status', { status: 'SHIPPED' }, 404, 'ORDER_NOT_FOUND');
    });

    it('cancels with a matching If-Match, releases the stock and writes OrderCancelled at version 2', async () => {
      const created = (await api.call('POST', '/api/orders', order([{ productId: gadget, quantity: 2 }]))).body;
      const before = await api.counts();
      const cancelled = await api.call('POST', `/api/orders/${created.id}/cancel`, { reason: 'changed my mind' }, { 'If-Match': '"1"' });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({ status: 'CANCELLED', version: 2 });
      expect((await api.counts()).reserved - before.reserved).toBe(-2);
      expect((await outboxOf(created.id)).map((e) => [e.event_type, e.aggregate_version])).toEqual([
        ['OrderCreated', 1],
        ['OrderCancelled', 2],
      ]);
      await refused('POST', `/api/orders/${created.id}/cancel`, {}, 409, 'INVALID_TRANSITION');
    });

    it('walks PENDING → PAID → SHIPPED → COMPLETED → REFUNDED with one event per version', async () => {
      const created = (await api.call('POST', '/api/orders', order([{ productId: widget, quantity: 2 }]))).body;
      const paid = await api.call('POST', '/api/payments', { orderId: created.id, method: 'CARD', amount: '39.98' });
      expect(paid.status).toBe(201);
      const stockBefore = (await api.call('GET', `/api/inventory/${widget}`)).body;
      const shipped = await api.call('PATCH', `/api/orders/${created.id}/status`, { status: 'SHIPPED' }, { 'If-Match': '"2"' });
      expect(shipped.body).toMatchObject({ status: 'SHIPPED', version: 3 });
      const stockAfter = (await api.call('GET', `/api/inventory/${widget}`)).body;
      expect([stockAfter.onHand - stockBefore.onHand, stockAfter.reserved - stockBefore.reserved]).toEqual([-2, -2]);
      expect((await api.call('PATCH', `/api/orders/${created.id}/status`, { status: 'COMPLETED' })).body.version).toBe(4);
      expect((await api.call('PATCH', `/api/orders/${created.id}/status`, { status: 'REFUNDED' })).body.version).toBe(5);
      expect((await outboxOf(created.id)).map((e) => [e.event_type, e.aggregate_version])).toEqual([
        ['OrderCreated', 1],
        ['PaymentCaptured', 1],
        ['OrderStatusChanged', 2],
        ['OrderStatusChanged', 3],
        ['OrderStatusChanged', 4],
        ['OrderRefunded', 5],
      ]);
      const [[row]] = (await api.pool.query('SELECT version FROM orders WHERE id = ?', [created.id])) as unknown as [[{ version: number }]];
      expect(row!.version).toBe(5);
    });
  });

  describe('POST /api/payments', () => {
    it('captures a payment equal to the total: PENDING → PAID, PaymentCaptured and OrderStatusChanged', async () => {
      const created = (await api.call('POST', '/api/orders', order([{ productId: widget, quantity: 1 }]))).body;
      const paid = await api.call('POST', '/api/payments', { orderId: created.id, method: 'PAYPAL', amount: '19.99' });
      expect(paid.status).toBe(201);
      expect(paid.body).toMatchObject({ orderId: created.id, method: 'PAYPAL', status: 'CAPTURED', amount: '19.99', currency: 'USD' });
      expect((await api.call('GET', `/api/orders/${created.id}`)).body).toMatchObject({ status: 'PAID', version: 2 });
      expect((await api.call('GET', `/api/payments/${created.id}`)).body).toEqual(paid.body);
      const [events] = (await api.pool.query('SELECT event_type, aggregate_type, aggregate_version, payload FROM outbox WHERE aggregate_id = ? ORDER BY id', [
        created.id,
      ])) as unknown as [{ event_type: string; aggregate_type: string; aggregate_version: number; payload: string }[]];
      expect(events.slice(1).map((e) => [e.event_type, e.aggregate_type, e.aggregate_version])).toEqual([
        ['PaymentCaptured', 'payment', 1],
        ['OrderStatusChanged', 'order', 2],
      ]);
      expect(JSON.parse(events[2]!.payload)).toMatchObject({ status: 'PAID', previousStatus: 'PENDING', paymentMethod: 'PAYPAL' });
    });

    it('rejects bad amounts, methods and orders without changing anything', async () => {
      const created = (await api.call('POST', '/api/orders', order())).body;
      await refused('POST', '/api/payments', { orderId: created.id, method: 'CARD', amount: '19.990' }, 400, 'VALIDATION_FAILED', '/amount');
      await refused('POST', '/api/payments', { orderId: created.id, method: 'CARD', amount: 19.99 }, 400, 'VALIDATION_FAILED', '/amount');
      await refused('POST', '/api/payments', { orderId: created.id, method: 'CARD', amount: '0.00' }, 400, 'VALIDATION_FAILED', '/amount');
      await refused('POST', '/api/payments', { orderId: created.id, method: 'CASH', amount: '19.99' }, 400, 'VALIDATION_FAILED', '/method');
      await refused('POST', '/api/payments', { orderId: created.id, method: 'CARD', amount: '19.98' }, 422, 'PAYMENT_AMOUNT_MISMATCH');
      await refused('POST', '/api/payments', { orderId: '00000000-0000-4000-8000-000000000000', method: 'CARD', amount: '19.99' }, 404, 'ORDER_NOT_FOUND');
      expect((await api.call('POST', '/api/payments', { orderId: created.id, method: 'CARD', amount: '19.99' })).status).toBe(201);
      await refused('POST', '/api/payments', { orderId: created.id, method: 'CARD', amount: '19.99' }, 409, 'ORDER_NOT_PAYABLE');
      expect((await api.call('GET', '/api/payments/00000000-0000-4000-8000-000000000000')).body.code).toBe('PAYMENT_NOT_FOUND');
    });
  });

  it('wrote exactly one outbox row per accepted change, with the aggregate\'s new version (whole database)', async () => {
    const { actual, expected } = await api.outboxVersions();
    expect(Object.keys(expected).length).toBeGreaterThan(3);
    expect(actual).toEqual(expected);
  });
});
