import type { TopicNames } from '../../kafka/topics.js';
import type { AvroRegistry } from '../../registry/avro-registry.js';
import type { Serde } from '../api.js';
import { avroSinkSerde, avroSourceSerde, stringSerde } from '../serdes.js';
import { inMemoryKeyValueStore } from '../state.js';
import { Topology } from '../topology.js';
import { CHANGES_SINK, ENRICHED_SINK, ORDER_STATE_STORE, OrderVersioningProcessor } from './order-versioning.js';

export interface ShopstreamSerdes {
  source: Serde<any>;
  enriched: Serde<any>;
  change: Serde<any>;
}

export function registrySerdes(registry: AvroRegistry): ShopstreamSerdes {
  return { source: avroSourceSerde(registry), enriched: avroSinkSerde(registry, 'OrderEnriched'), change: avroSinkSerde(registry, 'OrderChange') };
}

/**
 * shop.orders.v1 → order-versioning (store order-state) → shop.orders-enriched.v1 (latest state)
 *                                                       → shop.order-changes.v1 (signed rows)
 */
export function buildShopstreamTopology(topics: TopicNames, serdes: ShopstreamSerdes): Topology {
  return new Topology()
    .addSource('orders-source', [topics.orders], { key: stringSerde, value: serdes.source })
    .addProcessor('order-versioning', () => new OrderVersioningProcessor(), 'orders-source')
    .addStateStore(inMemoryKeyValueStore(ORDER_STATE_STORE), 'order-versioning')
    .addSink(ENRICHED_SINK, topics.ordersEnriched, { key: stringSerde, value: serdes.enriched }, 'order-versioning')
    .addSink(CHANGES_SINK, topics.orderChanges, { key: stringSerde, value: serdes.change }, 'order-versioning');
}
