import type {
  OrderCancelledPayload,
  OrderCreatedPayload,
  OrderDeletedPayload,
  OrderRefundedPayload,
  OrderSnapshotPayload,
  OrderStatusChangedPayload,
  PaymentCapturedPayload,
} from '../../orders/events.js';
import type { OrderStatus } from '../../orders/model.js';
import { signedChanges, toEnriched, type OrderState } from '../../orders/records.js';
import type { Decoded } from '../../registry/avro-registry.js';
import type { KeyValueStore, Processor, ProcessorContext, StreamRecord } from '../api.js';

export const ORDER_STATE_STORE = 'order-state';
export const PAYMENTS_STORE = 'payments';
export const USERS_STORE = 'users';
export const PRODUCTS_STORE = 'products';
export const ENRICHED_SINK = 'orders-enriched-sink';
export const CHANGES_SINK = 'order-changes-sink';

export interface UserEntry {
  name: string;
  email: string;
}
export interface ProductEntry {
  name: string;
  category: string;
}
export interface PaymentEntry {
  method: string;
  status: string;
}

/** Materializes the payments table (store `payments`, key: order id) from shop.payments.v1. */
export class PaymentsTableProcessor implements Processor<string, Decoded> {
  private store!: KeyValueStore<string, PaymentEntry>;

  init(context: ProcessorContext): void {
    this.store = context.getStateStore(PAYMENTS_STORE);
  }

  process(record: StreamRecord<string, Decoded>): void {
    if (record.value.name !== 'PaymentCaptured') return;
    const payment = record.value.value as unknown as PaymentCapturedPayload;
    this.store.put(payment.orderId, { method: payment.method, status: payment.status });
  }
}

/**
 * Keeps the latest state of every order (store `order-state`) and, for each order event that
 * moves an order to a newer version, forwards the new enriched state to ENRICHED_SINK and the
 * signed changes (retraction of the previous state, addition of the new) to CHANGES_SINK.
 *
 * Enrichment: the user's name and the products' names and categories from the global stores;
 * the payment method from the order's own events (OrderStatusChanged carries it on capture),
 * falling back to the payments table. Everything the aggregates count comes from the order's
 * events, so the signed rows do not depend on which topic's batch happened to arrive first.
 *
 * Idempotent per order: an event whose version is not newer than the stored state (a replay, a
 * relay duplicate) forwards nothing. An OrderSnapshot (`shopstream snapshot`) is a whole state,
 * not a change: newer than the stored state (or of an order never seen) it replaces it, enriched
 * as of now, and the signed rows retract what was counted before; otherwise it is ignored like
 * any older version. The snapshot writes it in its read's lock, so every change of the order
 * after that read comes after it on the topic.
 */
export class OrderVersioningProcessor implements Processor<string, Decoded, string, unknown> {
  private context!: ProcessorContext<string, unknown>;
  private orders!: KeyValueStore<string, OrderState>;
  private payments!: KeyValueStore<string, PaymentEntry>;
  private users!: KeyValueStore<string, UserEntry>;
  private products!: KeyValueStore<string, ProductEntry>;

  init(context: ProcessorContext<string, unknown>): void {
    this.context = context;
    this.orders = context.getStateStore(ORDER_STATE_STORE);
    this.payments = context.getStateStore(PAYMENTS_STORE);
    this.users = context.getStateStore(USERS_STORE);
    this.products = context.getStateStore(PRODUCTS_STORE);
  }

  process(record: StreamRecord<string, Decoded>): void {
    const previous = this.orders.get(record.key);
    const next = this.apply(previous, record);
    if (!next || (previous && next.version <= previous.version)) return;
    this.orders.put(next.orderId, next);
    const headers = { event_id: record.headers.event_id ?? '', committed_at: String(next.committedAt) };
    this.context.forward({ key: next.orderId, value: toEnriched(next), timestamp: record.timestamp, headers }, ENRICHED_SINK);
    for (const change of signedChanges(previous, next)) {
      this.context.forward({ key: next.orderId, value: change, timestamp: record.timestamp, headers }, CHANGES_SINK);
    }
  }

  /** The state after the event, or undefined for events that do not change a known order. */
  private apply(previous: OrderState | undefined, record: StreamRecord<string, Decoded>): OrderState | undefined {
    const committedAt = Number(record.headers.committed_at ?? record.timestamp * 1000);
    const event = record.value.value as Record<string, unknown>;
    if (record.value.name === 'OrderSnapshot') return this.fromSnapshot(event as unknown as OrderSnapshotPayload, committedAt);
    if (record.value.name === 'OrderCreated') {
      if (previous) return undefined;
      const created = event as unknown as OrderCreatedPayload;
      return {
        orderId: created.orderId,
        version: created.version,
        isDeleted: false,
        userId: created.userId,
        userName: this.users.get(created.userId)?.name ?? '',
        status: created.status,
        currency: created.currency,
        totalAmount: created.totalAmount,
        items: created.items.map((item) => {
          const product = this.products.get(item.productId);
          return { ...item, productName: product?.name ?? '', category: product?.category ?? '' };
        }),
        paymentMethod: '',
        paymentStatus: '',
        createdAt: created.createdAt,
        updatedAt: created.createdAt,
        committedAt,
      };
    }
    if (!previous) return undefined; // a change of an order this topology never saw created
    const version = Number(event.version);
    const base = { ...previous, version, committedAt, userName: previous.userName || (this.users.get(previous.userId)?.name ?? '') };
    const withStatus = (status: OrderStatus, at: number, paymentMethod = previous.paymentMethod): OrderState => {
      const method = paymentMethod || (this.payments.get(previous.orderId)?.method ?? '');
      return { ...base, status, updatedAt: at, paymentMethod: method, paymentStatus: method ? (status === 'REFUNDED' ? 'REFUNDED' : 'CAPTURED') : '' };
    };
    switch (record.value.name) {
      case 'OrderStatusChanged': {
        const changed = event as unknown as OrderStatusChangedPayload;
        return withStatus(changed.status, changed.changedAt, changed.paymentMethod ?? previous.paymentMethod);
      }
      case 'OrderCancelled':
        return withStatus('CANCELLED', (event as unknown as OrderCancelledPayload).cancelledAt);
      case 'OrderRefunded':
        return withStatus('REFUNDED', (event as unknown as OrderRefundedPayload).refundedAt);
      case 'OrderDeleted': {
        const deleted = event as unknown as OrderDeletedPayload;
        return { ...base, isDeleted: true, updatedAt: deleted.deletedAt };
      }
      default:
        return undefined;
    }
  }

  private fromSnapshot(snapshot: OrderSnapshotPayload, committedAt: number): OrderState {
    const method = snapshot.paymentMethod ?? '';
    return {
      orderId: snapshot.orderId,
      version: snapshot.version,
      isDeleted: snapshot.deletedAt !== null,
      userId: snapshot.userId,
      userName: this.users.get(snapshot.userId)?.name ?? '',
      status: snapshot.status,
      currency: snapshot.currency,
      totalAmount: snapshot.totalAmount,
      items: snapshot.items.map((item) => {
        const product = this.products.get(item.productId);
        return { ...item, productName: product?.name ?? '', category: product?.category ?? '' };
      }),
      paymentMethod: method,
      paymentStatus: method ? (snapshot.status === 'REFUNDED' ? 'REFUNDED' : 'CAPTURED') : '',
      createdAt: snapshot.createdAt,
      updatedAt: snapshot.updatedAt,
      committedAt,
    };
  }
}
