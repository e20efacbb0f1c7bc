import type { Order, OrderLine, OrderStatus, Product, User } from './model.js';

/**
 * Domain events: exactly one per state change, written to the outbox in the change's transaction
 * (SPEC §3) and published by the relay as the Avro record of the same name (schemas-avro/).
 * Payloads are the Avro values: money as decimal strings, timestamps as epoch microseconds.
 */
export type AggregateType = 'order' | 'user' | 'product';

export interface DomainEvent<P = unknown> {
  eventId: string;
  aggregateType: AggregateType;
  aggregateId: string;
  /** The aggregate's version after the change; orders one aggregate's events. */
  aggregateVersion: number;
  eventType: string;
  payload: P;
}

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

export function orderCreated(eventId: string, order: Order): DomainEvent<OrderCreatedPayload> {
  return {
    eventId,
    aggregateType: 'order',
    aggregateId: order.id,
    aggregateVersion: order.version,
    eventType: 'OrderCreated',
    payload: {
      orderId: order.id,
      version: order.version,
      userId: order.userId,
      status: order.status,
      currency: order.currency,
      totalAmount: order.totalAmount,
      items: order.items,
      createdAt: order.createdAt,
    },
  };
}

export function userRegistered(eventId: string, user: User): DomainEvent<UserRegisteredPayload> {
  return {
    eventId,
    aggregateType: 'user',
    aggregateId: user.id,
    aggregateVersion: user.version,
    eventType: 'UserRegistered',
    payload: { userId: user.id, version: user.version, email: user.email, name: user.name, registeredAt: user.createdAt },
  };
}

export function productUpserted(eventId: string, product: Product, at: number): DomainEvent<ProductUpsertedPayload> {
  return {
    eventId,
    aggregateType: 'product',
    aggregateId: product.id,
    aggregateVersion: product.version,
    eventType: 'ProductUpserted',
    payload: {
      productId: product.id,
      version: product.version,
      sku: product.sku,
      name: product.name,
      category: product.category,
      price: product.price,
      currency: product.currency,
      updatedAt: at,
    },
  };
}
