import type { Inventory, Order, OrderLine, OrderStatus, Payment, Product, User } from './model.js';

/**
 * Domain events: exactly one per state change of an aggregate, written to the outbox in the
 * change's transaction (SPEC §3) and published by the relay as the Avro record of the same name
 * (schemas-avro/<topic>/<EventType>.avsc). Payloads are the Avro values: money as decimal
 * strings, timestamps as epoch microseconds. `aggregateVersion` is the aggregate's version after
 * the change; one aggregate's events are published in that order.
 *
 * Aggregates and their topics: order → shop.orders.v1, payment (keyed by its order, so it is
 * co-partitioned with the order) → shop.payments.v1, product → shop.products.v1, inventory
 * (keyed by product) → shop.inventory.v1, user → shop.users.v1. A change of stock by an order
 * (reserved, released, shipped) is a change of each inventory row it touches too: it writes one
 * InventoryAdjusted per row beside the order's event, in the same transaction. The canary's
 * heartbeats (canary/, one aggregate each, version 1) go through the same outbox to
 * shop.canary.v1; they are no sales fact.
 */
export type AggregateType = 'order' | 'payment' | 'product' | 'inventory' | 'user' | 'canary';

export interface DomainEvent<P = unknown> {
  eventId: string;
  aggregateType: AggregateType;
  aggregateId: string;
  aggregateVersion: number;
  eventType: EventType;
  payload: P;
}

export const EVENT_TYPES = [
  'OrderCreated',
  'OrderStatusChanged',
  'OrderCancelled',
  'OrderRefunded',
  'OrderDeleted',
  'OrderSnapshot',
  'PaymentCaptured',
  'ProductUpserted',
  'InventoryAdjusted',
  'UserRegistered',
  'PipelineHeartbeat',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface OrderCreatedPayload {
  orderId: string;
  version: number;
  userId: string;
  status: OrderStatus;
  currency: string;
  totalAmount: string;
  items: OrderLine[];
  createdAt: number;
}

/** A status change other than cancel and refund (PAID, SHIPPED, COMPLETED). */
export interface OrderStatusChangedPayload {
  orderId: string;
  version: number;
  previousStatus: OrderStatus;
  status: OrderStatus;
  /** The captured payment's method when the change is a payment capture, else null. */
  paymentMethod: string | null;
  changedAt: number;
}

export interface OrderCancelledPayload {
  orderId: string;
  version: number;
  previousStatus: OrderStatus;
  reason: string | null;
  cancelledAt: number;
}

export interface OrderRefundedPayload {
  orderId: string;
  version: number;
  previousStatus: OrderStatus;
  refundedAt: number;
}

export interface OrderDeletedPayload {
  orderId: string;
  version: number;
  deletedBy: string;
  reason: string;
  deletedAt: number;
}

/**
 * The whole state of an order at `version`, as `shopstream snapshot` read it (not a change): a
 * consumer whose state is older takes it as the new state, one whose state is as new or newer
 * ignores it. Deleted orders carry their deletion time.
 */
export interface OrderSnapshotPayload {
  orderId: string;
  version: number;
  userId: string;
  status: OrderStatus;
  currency: string;
  totalAmount: string;
  items: OrderLine[];
  paymentMethod: string | null;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export interface PaymentCapturedPayload {
  paymentId: string;
  orderId: string;
  version: number;
  method: string;
  status: string;
  amount: string;
  currency: string;
  capturedAt: number;
}

export interface UserRegisteredPayload {
  userId: string;
  version: number;
  email: string;
  name: string;
  registeredAt: number;
}

export interface ProductUpsertedPayload {
  productId: string;
  version: number;
  sku: string;
  name: string;
  category: string;
  price: string;
  currency: string;
  updatedAt: number;
}

/** What changed a stock row (the Avro enum InventoryChangeCause). */
export type InventoryChangeCause = 'ADJUSTED' | 'CREATED' | 'RESERVED' | 'RELEASED' | 'SHIPPED';

/** The stock row's full state after a change, the change itself and its cause. */
export interface InventoryAdjustedPayload {
  productId: string;
  version: number;
  onHand: number;
  reserved: number;
  /** Change of onHand. */
  delta: number;
  reason: string | null;
  adjustedAt: number;
  cause: InventoryChangeCause;
  /** Change of reserved. */
  reservedDelta: number;
  /** The order that reserved, released or shipped the stock. */
  orderId: string | null;
}

export interface InventoryChange {
  cause: InventoryChangeCause;
  delta?: number;
  reservedDelta?: number;
  reason?: string | null;
  orderId?: string | null;
}

function event<P>(eventId: string, aggregateType: AggregateType, aggregateId: string, aggregateVersion: number, eventType: EventType, payload: P): DomainEvent<P> {
  return { eventId, aggregateType, aggregateId, aggregateVersion, eventType, payload };
}

export function orderCreated(eventId: string, order: Order): DomainEvent<OrderCreatedPayload> {
  return event(eventId, 'order', order.id, order.version, 'OrderCreated', {
    orderId: order.id,
    version: order.version,
    userId: order.userId,
    status: order.status,
    currency: order.currency,
    totalAmount: order.totalAmount,
    items: order.items,
    createdAt: order.createdAt,
  });
}

/** The event of an order moving from `previous` status to `order.status` (already applied). */
export function orderStatusEvent(eventId: string, order: Order, previous: OrderStatus, extra: { reason?: string | null; paymentMethod?: string }): DomainEvent {
  const common = { orderId: order.id, version: order.version, previousStatus: previous };
  if (order.status === 'CANCELLED') {
    return event(eventId, 'order', order.id, order.version, 'OrderCancelled', { ...common, reason: extra.reason ?? null, cancelledAt: order.updatedAt });
  }
  if (order.status === 'REFUNDED') {
    return event(eventId, 'order', order.id, order.version, 'OrderRefunded', { ...common, refundedAt: order.updatedAt });
  }
  return event(eventId, 'order', order.id, order.version, 'OrderStatusChanged', {
    ...common,
    status: order.status,
    paymentMethod: extra.paymentMethod ?? null,
    changedAt: order.updatedAt,
  } satisfies OrderStatusChangedPayload);
}

export function orderDeleted(eventId: string, order: Order): DomainEvent<OrderDeletedPayload> {
  const deletion = order.deletion!;
  return event(eventId, 'order', order.id, order.version, 'OrderDeleted', {
    orderId: order.id,
    version: order.version,
    deletedBy: deletion.by,
    reason: deletion.reason,
    deletedAt: deletion.at,
  });
}

/** The snapshot of `order` as read, with its captured payment if any. */
export function orderSnapshot(eventId: string, order: Order, payment: Payment | undefined): DomainEvent<OrderSnapshotPayload> {
  return event(eventId, 'order', order.id, order.version, 'OrderSnapshot', {
    orderId: order.id,
    version: order.version,
    userId: order.userId,
    status: order.status,
    currency: order.currency,
    totalAmount: order.totalAmount,
    items: order.items,
    paymentMethod: payment?.method ?? null,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
    deletedAt: order.deletion?.at ?? null,
  });
}

export function paymentCaptured(eventId: string, payment: Payment): DomainEvent<PaymentCapturedPayload> {
  return event(eventId, 'payment', payment.orderId, payment.version, 'PaymentCaptured', {
    paymentId: payment.id,
    orderId: payment.orderId,
    version: payment.version,
    method: payment.method,
    status: payment.status,
    amount: payment.amount,
    currency: payment.currency,
    capturedAt: payment.createdAt,
  });
}

export function userRegistered(eventId: string, user: User): DomainEvent<UserRegisteredPayload> {
  return event(eventId, 'user', user.id, user.version, 'UserRegistered', {
    userId: user.id,
    version: user.version,
    email: user.email,
    name: user.name,
    registeredAt: user.createdAt,
  });
}

export function productUpserted(eventId: string, product: Product, at: number): DomainEvent<ProductUpsertedPayload> {
  return event(eventId, 'product', product.id, product.version, 'ProductUpserted', {
    productId: product.id,
    version: product.version,
    sku: product.sku,
    name: product.name,
    category: product.category,
    price: product.price,
    currency: product.currency,
    updatedAt: at,
  });
}

/** The event of a stock row's change; `inventory` is the row after it. */
export function inventoryAdjusted(eventId: string, inventory: Inventory, change: InventoryChange): DomainEvent<InventoryAdjustedPayload> {
  return event(eventId, 'inventory', inventory.productId, inventory.version, 'InventoryAdjusted', {
    productId: inventory.productId,
    version: inventory.version,
    onHand: inventory.onHand,
    reserved: inventory.reserved,
    delta: change.delta ?? 0,
    reason: change.reason ?? null,
    adjustedAt: inventory.updatedAt,
    cause: change.cause,
    reservedDelta: change.reservedDelta ?? 0,
    orderId: change.orderId ?? null,
  });
}
