import type { TopicNames } from '../../kafka/topics.js';
import type { ProductUpsertedPayload, UserRegisteredPayload } from '../../orders/events.js';
import type { AvroRegistry, Decoded } from '../../registry/avro-registry.js';
import type { Serde } from '../api.js';
import { avroSinkSerde, avroSourceSerde, stringSerde } from '../serdes.js';
import { keyValueStore } from '../state.js';
import { Topology } from '../topology.js';
import { CANARY_SINK, CanaryProcessor } from './canary.js';
import {
  CHANGES_SINK,
  ENRICHED_SINK,
  ORDER_STATE_STORE,
  OrderVersioningProcessor,
  PAYMENTS_STORE,
  PaymentsTableProcessor,
  PRODUCTS_STORE,
  USERS_STORE,
} from './order-versioning.js';

export interface ShopstreamSerdes {
  source: Serde<Decoded>;
  enriched: Serde<any>;
  change: Serde<any>;
  canary: Serde<any>;
}

export function registrySerdes(registry: AvroRegistry): ShopstreamSerdes {
  return {
    source: avroSourceSerde(registry),
    enriched: avroSinkSerde(registry, 'OrderEnriched'),
    change: avroSinkSerde(registry, 'OrderChange'),
    canary: avroSinkSerde(registry, 'PipelineCanary'),
  };
}

/**
 *   global: users ← shop.users.v1, products ← shop.products.v1
 *   shop.payments.v1 → payments-table (store payments)
 *   shop.orders.v1   → order-versioning (stores order-state, payments; global users, products)
 *                        → shop.orders-enriched.v1 (latest state)
 *                        → shop.order-changes.v1 (signed rows)
 *   shop.canary.v1   → canary → shop.pipeline-canary.v1 (the heartbeats as processed)
 * shop.orders.v1, shop.payments.v1 (both keyed by order id) and shop.canary.v1 are co-partitioned:
 * a heartbeat goes through the task, and the transactions, of the orders of its partition.
 */
export function buildShopstreamTopology(topics: TopicNames, serdes: ShopstreamSerdes): Topology {
  return new Topology()
    .addGlobalStore({
      name: USERS_STORE,
      topic: topics.users,
      valueSerde: serdes.source,
      update: (store, key, value) => {
        if (value.name !== 'UserRegistered') return;
        const user = value.value as unknown as UserRegisteredPayload;
        store.put(key, { name: user.name, email: user.email });
      },
    })
    .addGlobalStore({
      name: PRODUCTS_STORE,
      topic: topics.products,
      valueSerde: serdes.source,
      update: (store, key, value) => {
        if (value.name !== 'ProductUpserted') return;
        const product = value.value as unknown as ProductUpsertedPayload;
        store.put(key, { name: product.name, category: product.category });
      },
    })
    .addSource('payments-source', [topics.payments], { key: stringSerde, value: serdes.source })
    .addProcessor('payments-table', () => new PaymentsTableProcessor(), 'payments-source')
    .addSource('orders-source', [topics.orders], { key: stringSerde, value: serdes.source })
    .addProcessor('order-versioning', () => new OrderVersioningProcessor(), 'orders-source')
    .addStateStore(keyValueStore(ORDER_STATE_STORE), 'order-versioning')
    .addStateStore(keyValueStore(PAYMENTS_STORE), 'payments-table', 'order-versioning')
    .addSink(ENRICHED_SINK, topics.ordersEnriched, { key: stringSerde, value: serdes.enriched }, 'order-versioning')
    .addSink(CHANGES_SINK, topics.orderChanges, { key: stringSerde, value: serdes.change }, 'order-versioning')
    .addSource('canary-source', [topics.canary], { key: stringSerde, value: serdes.source })
    .addProcessor('canary', () => new CanaryProcessor(), 'canary-source')
    .addSink(CANARY_SINK, topics.pipelineCanary, { key: stringSerde, value: serdes.canary }, 'canary');
}
