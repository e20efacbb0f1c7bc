import { createHash } from 'node:crypto';
import type { AuditEntry } from '../auth/tokens.js';
import { ConflictError, NotFoundError, UnprocessableError, ValidationError } from '../core/errors.js';
import { inventoryAdjusted, orderCreated, orderDeleted, orderStatusEvent, paymentCaptured } from './events.js';
import { assertAmountFits, fromCents, toCents } from './money.js';
import { assertTransition, holdsReservation, type Inventory, type Order, type OrderLine, type OrderStatus, type Payment, type PaymentMethod } from './model.js';
import type { IdempotencyKey, OrderPageQuery, OrderUnitOfWork } from './ports.js';
import { write, type OrderServiceDeps } from './deps.js';

export interface PlaceOrderCommand {
  userId: string;
  items: { productId: string; quantity: number }[];
}

/**
 * Places an order: prices come from the catalog, the total is computed exactly, stock is
 * reserved (INSUFFICIENT_STOCK when short), and the order, its lines, one OrderCreated event and
 * one InventoryAdjusted per product (RESERVED) commit in one transaction. Lines reserve stock in product-id order so concurrent orders cannot
 * deadlock; a refused order rolls its reservations back with the transaction.
 *
 * Idempotency: see `idempotent`.
 */
export async function placeOrder(deps: OrderServiceDeps, command: PlaceOrderCommand, idempotencyKey?: IdempotencyKey): Promise<{ order: Order; replayed: boolean }> {
  const request = { userId: command.userId, items: command.items };
  return write(deps, async (uow, tools) => {
    const { result, replayed } = await idempotent(uow, idempotencyKey, request, () => placeNewOrder(uow, tools, command));
    return { order: result, replayed };
  });
}

/**
 * Runs `work` once per Idempotency-Key (in its route and client scope), in the caller's
 * transaction: the first successful response is stored with its effects; a repeat with the same
 * request returns it (`replayed`) and does nothing, a repeat with another request is
 * IDEMPOTENCY_KEY_REUSED. A failed attempt stores nothing, so it may be retried under its key.
 * Keys are kept for a retention window (IdempotencyKeyPurger), after which a key is new again.
 */
async function idempotent<T>(uow: OrderUnitOfWork, key: IdempotencyKey | undefined, request: unknown, work: () => Promise<T>): Promise<{ result: T; replayed: boolean }> {
  if (key === undefined) return { result: await work(), replayed: false };
  const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
  const claim = await uow.claimIdempotencyKey(key, requestHash);
  if (!claim.claimed) {
    if (claim.requestHash !== requestHash) throw new UnprocessableError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request body');
    return { result: JSON.parse(claim.response) as T, replayed: true };
  }
  const result = await work();
  await uow.completeIdempotencyKey(key, JSON.stringify(result));
  return { result, replayed: false };
}

async function placeNewOrder(uow: OrderUnitOfWork, { now, uuid }: { now: number; uuid: () => string }, command: PlaceOrderCommand): Promise<Order> {
  const productIds = [...new Set(command.items.map((item) => item.productId))];
  // Asked together (one round trip); the reservation is rolled back if anything is wrong.
  const lines = quantitiesByProduct(command.items);
  const [user, found, reservation] = await Promise.all([uow.findUser(command.userId), uow.findProducts(productIds), uow.reserveStock(lines, now)]);
  if (!user) throw new NotFoundError('user', command.userId, 'USER_NOT_FOUND');
  const products = new Map(found.map((product) => [product.id, product]));
  const missing = command.items.findIndex((item) => !products.has(item.productId));
  if (missing >= 0) {
    throw new ValidationError('an item names a product that does not exist', [
      { field: `/items/${missing}/productId`, message: `no product ${command.items[missing]!.productId}` },
    ]);
  }
  const currencies = new Set(productIds.map((id) => products.get(id)!.currency));
  if (currencies.size > 1) throw new ValidationError('all items of an order must share one currency', [{ field: '/items', message: 'mixed currencies' }]);

  if ('short' in reservation) throw new ConflictError('INSUFFICIENT_STOCK', `not enough stock of product ${reservation.short}`);
  const items = priceLines(command.items, products);
  const order: Order = {
    id: uuid(),
    userId: command.userId,
    status: 'PENDING',
    totalAmount: orderTotal(items),
    currency: [...currencies][0]!,
    version: 1,
    createdAt: now,
    updatedAt: now,
    items,
  };
  await uow.insertOrder(order);
  await uow.appendEvent(orderCreated(uuid(), order));
  await appendStockEvents(uow, uuid, order.id, 'RESERVED', lines, reservation.stock);
  return order;
}

/** Lines at catalog prices; a line total DECIMAL(12,2) cannot hold is AMOUNT_TOO_LARGE (nothing is written). */
function priceLines(lines: PlaceOrderCommand['items'], products: Map<string, { price: string }>): OrderLine[] {
  return lines.map((item, index) => {
    const unitPrice = products.get(item.productId)!.price;
    const lineCents = toCents(unitPrice) * BigInt(item.quantity);
    assertAmountFits(lineCents, `/items/${index}`, `line ${index + 1} totals`);
    return { lineNo: index + 1, productId: item.productId, quantity: item.quantity, unitPrice, lineTotal: fromCents(lineCents) };
  });
}

/** The exact sum of the line totals; AMOUNT_TOO_LARGE when DECIMAL(12,2) cannot hold it. */
function orderTotal(items: OrderLine[]): string {
  const cents = items.reduce((sum, item) => sum + toCents(item.lineTotal), 0n);
  assertAmountFits(cents, '/items', 'the order total');
  return fromCents(cents);
}

/** Total quantity per product, in product-id order (the lock order of stock rows). */
function quantitiesByProduct(items: { productId: string; quantity: number }[]): [string, number][] {
  const totals = new Map<string, number>();
  for (const item of items) totals.set(item.productId, (totals.get(item.productId) ?? 0) + item.quantity);
  return [...totals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The live (not deleted) order, locked; NOT_FOUND otherwise. A stale expected version is a conflict. */
async function lockLiveOrder(uow: OrderUnitOfWork, id: string, expectedVersion?: number): Promise<Order> {
  const order = await uow.lockOrder(id);
  if (!order || order.deletion) throw new NotFoundError('order', id, 'ORDER_NOT_FOUND');
  if (expectedVersion !== undefined && order.version !== expectedVersion) {
    throw new ConflictError('VERSION_CONFLICT', `order ${id} is at version ${order.version}, not ${expectedVersion}`);
  }
  return order;
}

/** Moves the reserved stock of an order as its status changes (to undefined: the order is deleted). */
async function moveStock(uow: OrderUnitOfWork, { now, uuid }: { now: number; uuid: () => string }, order: Order, from: OrderStatus, to: OrderStatus | undefined): Promise<void> {
  const release = holdsReservation(from) && (to === 'CANCELLED' || to === 'REFUNDED' || to === undefined);
  const ship = to === 'SHIPPED';
  if (!release && !ship) return;
  const lines = quantitiesByProduct(order.items);
  const stock = ship ? await uow.shipStock(lines, now) : await uow.releaseStock(lines, now);
  await appendStockEvents(uow, uuid, order.id, ship ? 'SHIPPED' : 'RELEASED', lines, stock);
}

/** One InventoryAdjusted per stock row an order changed, carrying the row after the change (SPEC §3). */
async function appendStockEvents(uow: OrderUnitOfWork, uuid: () => string, orderId: string, cause: 'RESERVED' | 'RELEASED' | 'SHIPPED', lines: [string, number][], stock: Inventory[]): Promise<void> {
  const quantities = new Map(lines);
  for (const row of stock) {
    const quantity = quantities.get(row.productId)!;
    const change = cause === 'RESERVED' ? { reservedDelta: quantity } : cause === 'RELEASED' ? { reservedDelta: -quantity } : { delta: -quantity, reservedDelta: -quantity };
    await uow.appendEvent(inventoryAdjusted(uuid(), row, { cause, orderId, ...change }));
  }
}

export interface ChangeStatusCommand {
  orderId: string;
  status: OrderStatus;
  /** From If-Match: the version the client last saw; a newer one is VERSION_CONFLICT. */
  expectedVersion?: number;
  reason?: string;
}

/**
 * Applies a status transition (SPEC §3 machine; others are INVALID_TRANSITION). PAID is reached
 * only by capturing a payment (PAYMENT_REQUIRED here). Emits OrderCancelled, OrderRefunded or
 * OrderStatusChanged with the order's new version.
 */
export async function changeOrderStatus(deps: OrderServiceDeps, command: ChangeStatusCommand): Promise<Order> {
  return write(deps, async (uow, { now, uuid }) => {
    const order = await lockLiveOrder(uow, command.orderId, command.expectedVersion);
    if (command.status === 'PAID') throw new ConflictError('PAYMENT_REQUIRED', 'an order becomes PAID by capturing its payment (POST /api/payments)');
    assertTransition(order.status, command.status);
    await moveStock(uow, { now, uuid }, order, order.status, command.status);
    const next: Order = { ...order, status: command.status, version: order.version + 1, updatedAt: now };
    await uow.updateOrder(next);
    await uow.appendEvent(orderStatusEvent(uuid(), next, order.status, { reason: command.reason ?? null }));
    return next;
  });
}

export function cancelOrder(deps: OrderServiceDeps, orderId: string, reason?: string, expectedVersion?: number): Promise<Order> {
  return changeOrderStatus(deps, { orderId, status: 'CANCELLED', reason, expectedVersion });
}

export interface CapturePaymentCommand {
  orderId: string;
  method: PaymentMethod;
  amount: string;
}

/**
 * Captures the payment of a PENDING order; the amount must equal the order total exactly
 * (PAYMENT_AMOUNT_MISMATCH otherwise). Creates the payment (PaymentCaptured) and moves the order
 * to PAID (OrderStatusChanged carrying the method) in one transaction. Idempotency: see `idempotent`.
 */
export async function capturePayment(
  deps: OrderServiceDeps,
  command: CapturePaymentCommand,
  idempotencyKey?: IdempotencyKey,
): Promise<{ payment: Payment; order: Order; replayed: boolean }> {
  const request = { orderId: command.orderId, method: command.method, amount: command.amount };
  return write(deps, async (uow, tools) => {
    const { result, replayed } = await idempotent(uow, idempotencyKey, request, () => captureNewPayment(uow, tools, command));
    return { ...result, replayed };
  });
}

async function captureNewPayment(uow: OrderUnitOfWork, { now, uuid }: { now: number; uuid: () => string }, command: CapturePaymentCommand): Promise<{ payment: Payment; order: Order }> {
  const order = await lockLiveOrder(uow, command.orderId);
  if (order.status !== 'PENDING') throw new ConflictError('ORDER_NOT_PAYABLE', `order ${order.id} is ${order.status}; only PENDING orders can be paid`);
  if (toCents(command.amount, 'amount') !== toCents(order.totalAmount)) {
    throw new UnprocessableError('PAYMENT_AMOUNT_MISMATCH', `the amount ${command.amount} does not equal the order total ${order.totalAmount}`);
  }
  const payment: Payment = {
    id: uuid(),
    orderId: order.id,
    method: command.method,
    status: 'CAPTURED',
    amount: order.totalAmount,
    currency: order.currency,
    version: 1,
    createdAt: now,
  };
  const paid: Order = { ...order, status: 'PAID', version: order.version + 1, updatedAt: now };
  await uow.insertPayment(payment);
  await uow.updateOrder(paid);
  await uow.appendEvent(paymentCaptured(uuid(), payment));
  await uow.appendEvent(orderStatusEvent(uuid(), paid, order.status, { paymentMethod: payment.method }));
  return { payment, order: paid };
}

/**
 * Soft-deletes an order (administrators only, with a reason). Open orders give their reserved
 * stock back. Deleting a deleted order is ORDER_ALREADY_DELETED; the order disappears from reads.
 * `audit`, the row of the admin call that asks for it (the API always gives one), commits with the
 * delete: a delete cannot commit without it.
 */
export async function deleteOrder(deps: OrderServiceDeps, command: { orderId: string; actor: string; reason: string }, audit?: AuditEntry): Promise<Order> {
  return write(deps, async (uow, { now, uuid }) => {
    const order = await uow.lockOrder(command.orderId);
    if (!order) throw new NotFoundError('order', command.orderId, 'ORDER_NOT_FOUND');
    if (order.deletion) throw new ConflictError('ORDER_ALREADY_DELETED', `order ${order.id} is already deleted`);
    await moveStock(uow, { now, uuid }, order, order.status, undefined);
    const deleted: Order = { ...order, version: order.version + 1, updatedAt: now, deletion: { at: now, by: command.actor, reason: command.reason } };
    await uow.updateOrder(deleted);
    await uow.appendEvent(orderDeleted(uuid(), deleted));
    if (audit) await uow.appendAudit(audit);
    return deleted;
  });
}

export async function getOrder(deps: OrderServiceDeps, id: string): Promise<Order> {
  const order = await deps.store.getOrder(id);
  if (!order) throw new NotFoundError('order', id, 'ORDER_NOT_FOUND');
  return order;
}

export function listOrders(deps: OrderServiceDeps, query: OrderPageQuery): Promise<Order[]> {
  return deps.store.listOrders(query);
}

export async function getPayment(deps: OrderServiceDeps, orderId: string): Promise<Payment> {
  const order = await deps.store.getOrder(orderId);
  const payment = order ? await deps.store.getPayment(orderId) : undefined;
  if (!payment) throw new NotFoundError('payment of order', orderId, 'PAYMENT_NOT_FOUND');
  return payment;
}
