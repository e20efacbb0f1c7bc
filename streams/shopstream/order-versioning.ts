import type { OrderCreatedPayload } from '../../orders/events.js';
import { signedChanges, toEnriched, type OrderState } from '../../orders/records.js';
import type { Decoded } from '../../registry/avro-registry.js';
import type { KeyValueStore, Processor, ProcessorContext, StreamRecord } from '../api.js';

export const ORDER_STATE_STORE = 'order-state';
export const ENRICHED_SINK = 'orders-enriched-sink';
export const CHANGES_SINK = 'order-changes-sink';

/**
 * Keeps the latest state of every order (store `order-state`) and, for each order event that
 * moves an order to a newer version, forwards the new enriched state to ENRICHED_SINK and the
 * signed changes (retraction of the previous state, addition of the new) to CHANGES_SINK.
 * Idempotent per order: an event whose version is not newer than the stored state (a replay or a
 * relay duplicate) forwards nothing.
 */
export class OrderVersioningProcessor implements Processor<string, Decoded, string, unknown> {
  private context!: ProcessorContext<string, unknown>;
  private store!: KeyValueStore<string, OrderState>;

  init(context: ProcessorContext<string, unknown>): void {
    this.context = context;
    this.store = context.getStateStore<KeyValueStore<string, OrderState>>(ORDER_STATE_STORE);
  }

  process(record: StreamRecord<string, Decoded>): void {
    const previous = this.store.get(record.key);
    const next = this.apply(previous, record);
    if (!next || (previous && next.version <= previous.version)) return;
    this.store.put(next.orderId, next);
    const headers = { event_id: record.headers.event_id ?? '', committed_at: String(next.committedAt) };
    this.context.forward({ key: next.orderId, value: toEnriched(next), timestamp: record.timestamp, headers }, ENRICHED_SINK);
    for (const change of signedChanges(previous, next)) {
      this.context.forward({ key: next.orderId, value: change, timestamp: record.timestamp, headers }, CHANGES_SINK);
    }
  }

  /** The state after the event, or undefined for events this processor does not version. */
  private apply(previous: OrderState | undefined, record: StreamRecord<string, Decoded>): OrderState | undefined {
    const committedAt = Number(record.headers.committed_at ?? record.timestamp * 1000);
    switch (record.value.name) {
      case 'OrderCreated': {
        const event = record.value.value as unknown as OrderCreatedPayload;
        if (previous) return undefined;
        return {
          orderId: event.orderId,
          version: event.version,
          isDeleted: false,
          userId: event.userId,
          userName: '',
          status: event.status,
          currency: event.currency,
          totalAmount: event.totalAmount,
          items: event.items.map((item) => ({ productId: item.productId, quantity: item.quantity, lineTotal: item.lineTotal })),
          paymentMethod: '',
          paymentStatus: '',
          createdAt: event.createdAt,
          updatedAt: event.createdAt,
          committedAt,
        };
      }
      default:
        return undefined;
    }
  }
}
