import type { ClickHouseClient } from '@clickhouse/client';
import type { Pool } from 'mysql2/promise';
import { ClickHouseAnalytics } from '../clickhouse/analytics.js';
import { ClickHouseShadows } from '../clickhouse/shadow.js';
import { ClickHouseAnalyticsWriter } from '../clickhouse/writer.js';
import type { SwapGate } from '../core/swap-gate.js';
import type { Kafka, KafkaOptions } from '../kafka/client.js';
import { KafkaRangeSource } from '../kafka/range-reader.js';
import type { TopicNames } from '../kafka/topics.js';
import { MysqlAnalyticsTruth, reconcileScope } from '../mysql/analytics-truth.js';
import { reconcile } from '../reconcile/reconcile.js';
import type { AvroRegistry } from '../registry/avro-registry.js';
import type { LiveSink } from '../replay/ports.js';
import { Replay, type ReplayOptions } from '../replay/replay.js';
import { loadedTables } from '../sink/clickhouse-sink.js';

export interface ReplayWiring {
  kafka: Kafka;
  kafkaOptions: KafkaOptions;
  registry: AvroRegistry;
  clickhouse: ClickHouseClient;
  database: string;
  pool: Pool;
  topics: TopicNames;
  /** The live sink's consumer group (checked for members when the sink is not in this process). */
  sinkGroup: string;
  /** Present in the process that runs the sink and the API's analytics reads. */
  live?: { sink: LiveSink; gate: SwapGate };
  /** Users whose per-user figures the verification compares. Default 1,000. */
  verifyUsers?: number;
}

/** A Replay on the real adapters; `close` releases its Kafka clients. */
export async function createReplay(wiring: ReplayWiring, options: Partial<ReplayOptions> = {}): Promise<{ replay: Replay; close: () => Promise<void> }> {
  const source = new KafkaRangeSource(wiring.kafka, wiring.kafkaOptions);
  await source.connect();
  const admin = wiring.kafka.admin();
  await admin.connect();
  const replay = new Replay(
    {
      source,
      shadows: new ClickHouseShadows(wiring.clickhouse, wiring.database),
      decode: async (value) => (await wiring.registry.decode(value)).value,
      writerFor: (database) => new ClickHouseAnalyticsWriter(wiring.clickhouse, database),
      analyticsFor: (database) => new ClickHouseAnalytics(wiring.clickhouse, database),
      verify: async (analytics) => reconcile(new MysqlAnalyticsTruth(wiring.pool), analytics, await reconcileScope(wiring.pool, wiring.verifyUsers ?? 1_000)),
      database: wiring.database,
      loaded: loadedTables(wiring.topics),
      live: wiring.live,
      foreignSinkRunning: async () => {
        const { groups } = await admin.describeGroups([wiring.sinkGroup]);
        return (groups[0]?.members.length ?? 0) > 0;
      },
    },
    options,
  );
  return {
    replay,
    async close() {
      await source.close().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    },
  };
}
