import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../../cli/config.js';
import { topicNames, topicSpecs } from '../../kafka/topics.js';

describe('topic layout', () => {
  const names = topicNames('t.');
  const partitionsOf = (layout: Parameters<typeof topicSpecs>[1]) => Object.fromEntries(topicSpecs(names, layout).map((s) => [s.name, s.partitions]));

  it('gives the derived topics their own partition count, the rest the common one', () => {
    const p = partitionsOf({ partitions: 6, replicationFactor: 1, derivedPartitions: 1 });
    expect(p[names.ordersEnriched]).toBe(1);
    expect(p[names.orderChanges]).toBe(1);
    expect(p[names.orders]).toBe(6);
    expect(p[names.payments]).toBe(6);
    expect(partitionsOf({ partitions: 4, replicationFactor: 1 })[names.orderChanges]).toBe(4);
  });

  it('uses one derived partition with the embedded engine (one sink), the common count with a server', () => {
    expect(configFromEnv({}).topicLayout.derivedPartitions).toBe(1);
    expect(configFromEnv({ CLICKHOUSE_URL: 'http://ch:8123' }).topicLayout.derivedPartitions).toBeUndefined();
    expect(configFromEnv({ CLICKHOUSE_URL: 'http://ch:8123', KAFKA_DERIVED_TOPIC_PARTITIONS: '3' }).topicLayout.derivedPartitions).toBe(3);
  });
});
