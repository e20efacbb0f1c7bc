import type { Admin } from './client.js';

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  config: Record<string, string>;
}

/** Logical topics of the pipeline. Keys are stable; names get an optional prefix (tests use one). */
export const TOPIC_KEYS = ['orders', 'payments', 'users', 'products', 'inventory', 'ordersEnriched', 'orderChanges', 'deadLetter', 'canary', 'pipelineCanary'] as const;
export type TopicKey = (typeof TOPIC_KEYS)[number];
export type TopicNames = Record<TopicKey, string>;

const BASE_NAMES: TopicNames = {
  orders: 'shop.orders.v1',
  payments: 'shop.payments.v1',
  users: 'shop.users.v1',
  products: 'shop.products.v1',
  inventory: 'shop.inventory.v1',
  ordersEnriched: 'shop.orders-enriched.v1',
  orderChanges: 'shop.order-changes.v1',
  deadLetter: 'shop.dead-letter.v1',
  canary: 'shop.canary.v1',
  pipelineCanary: 'shop.pipeline-canary.v1',
};

export function topicNames(prefix = ''): TopicNames {
  return Object.fromEntries(TOPIC_KEYS.map((key) => [key, `${prefix}${BASE_NAMES[key]}`])) as TopicNames;
}

/** The base (unprefixed) topic name of a key: the name schemas-avro/ uses for its folders. */
export function baseTopicName(key: TopicKey): string {
  return BASE_NAMES[key];
}

const WEEK_MS = String(7 * 24 * 3600 * 1000);
const DAY_MS = String(24 * 3600 * 1000);

export interface TopicLayout {
  /** Partitions of every pipeline topic. Default 6. */
  partitions: number;
  /** Replication factor. Default 1 locally; 3 on the distributed stack. */
  replicationFactor: number;
  /**
   * Partitions of the derived topics the ClickHouse sink loads (orders-enriched, order-changes).
   * The sink inserts each partition's range on its own, and an insert's fixed cost (filling the
   * aggregate views) dominates small batches, so fewer partitions mean fewer, larger inserts.
   * The streams tasks write to them by key, so this need not match `partitions`.
   * Default: `partitions`.
   */
  derivedPartitions?: number;
}

/**
 * Explicit partitions and configs of every topic; nothing relies on broker auto-creation.
 * Event topics (orders, derived records) keep a week for replays; table topics (payments, users,
 * products, inventory: each event carries the aggregate's full state) are compacted, since only
 * the latest state of each key matters to the tables built from them. The canary's topics
 * (heartbeats, and the heartbeats the streams processed) keep a day: a heartbeat matters for
 * seconds. shop.canary.v1 is a source of the streams, so it has the common partition count
 * (the sources are co-partitioned); shop.pipeline-canary.v1 is loaded by the sink like the
 * derived topics.
 */
export const DEFAULT_TOPIC_LAYOUT: TopicLayout = { partitions: 6, replicationFactor: 1 };

export function topicSpecs(names: TopicNames, layout: TopicLayout = DEFAULT_TOPIC_LAYOUT): TopicSpec[] {
  const minIsr = String(Math.min(2, layout.replicationFactor));
  const base = { partitions: layout.partitions, replicationFactor: layout.replicationFactor };
  const derived = { ...base, partitions: layout.derivedPartitions ?? layout.partitions };
  const retained = { 'cleanup.policy': 'delete', 'retention.ms': WEEK_MS, 'min.insync.replicas': minIsr };
  const compacted = { 'cleanup.policy': 'compact', 'min.insync.replicas': minIsr, 'min.compaction.lag.ms': '60000' };
  const heartbeats = { 'cleanup.policy': 'delete', 'retention.ms': DAY_MS, 'min.insync.replicas': minIsr };
  return [
    { name: names.orders, ...base, config: retained },
    { name: names.payments, ...base, config: compacted },
    { name: names.users, ...base, config: compacted },
    { name: names.products, ...base, config: compacted },
    { name: names.inventory, ...base, config: compacted },
    { name: names.ordersEnriched, ...derived, config: retained },
    { name: names.orderChanges, ...derived, config: retained },
    { name: names.deadLetter, ...base, partitions: 1, config: retained },
    { name: names.canary, ...base, config: heartbeats },
    { name: names.pipelineCanary, ...derived, config: heartbeats },
  ];
}

/** Creates the topics that do not exist yet. Idempotent; existing topics are left as they are. */
export async function ensureTopics(admin: Admin, specs: TopicSpec[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !existing.has(spec.name));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({
      topics: missing.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor,
        configEntries: Object.entries(spec.config).map(([name, value]) => ({ name, value })),
      })),
    });
  } catch (error) {
    // Another process may have created them in between; anything else is a real failure.
    const now = new Set(await admin.listTopics());
    if (!missing.every((spec) => now.has(spec.name))) throw error;
  }
  return missing.map((spec) => spec.name);
}
