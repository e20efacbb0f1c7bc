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
import type { LiveSink, LiveStreams } from '../replay/ports.js';
import { Replay, type ReplayOptions } from '../replay/replay.js';
import { loadedTables } from '../sink/clickhouse-sink.js';
import { DependencyError } from '../core/errors.js';
import { retry, waitFor } from '../core/retry.js';
import { parseManifest, type ReplayManifest } from '../replay/manifest.js';
import { changelogTopic } from '../streams/kafka-streams.js';
import type { Topology } from '../streams/topology.js';

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
  live?: { sink: LiveSink; gate: SwapGate; streams?: LiveStreams };
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

/** The replay manifest of the live database's shadow, if a replay exists. */
export async function replayManifest(clickhouse: ClickHouseClient, database: string): Promise<ReplayManifest | undefined> {
  const text = await new ClickHouseShadows(clickhouse, database).load(`${database}_replay`);
  return text === undefined ? undefined : parseManifest(text);
}

/** The changelog topics of a topology's logged stores, for its application id. */
export function changelogTopics(topology: Topology, applicationId: string): string[] {
  return [...topology.stores.values()].filter((store) => store.logged).map((store) => changelogTopic(applicationId, store.name));
}

export async function committedOffsets(kafka: Kafka, group: string): Promise<Map<string, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.fetchOffsets({ groupId: group });
    return new Map(topics.flatMap(({ topic, partitions }) => partitions.map((p) => [`${topic}:${p.partition}`, BigInt(p.offset)] as [string, bigint])));
  } finally {
    await admin.disconnect();
  }
}

/**
 * What the Kafka Streams reset tool does, for a stopped application: its consumer group is
 * deleted (the next instance reads its inputs from the earliest offset) and its changelogs are
 * deleted and waited for (the next instance creates them empty). Output topics are left alone.
 */
export async function resetStreamsApplication(kafka: Kafka, applicationId: string, changelogs: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // A member that just left may keep the group busy for a moment.
    await retry(() => admin.deleteGroups([applicationId]).catch((error: unknown) => {
      if (/does not exist|GROUP_ID_NOT_FOUND|not found/i.test(String((error as Error)?.message))) return;
      throw new DependencyError('kafka', `cannot delete consumer group ${applicationId}: ${String((error as Error)?.message)}`, { cause: error });
    }), { attempts: 20, initialDelayMs: 250, maxDelayMs: 2_000 });
    const existing = new Set(await admin.listTopics());
    const doomed = changelogs.filter((topic) => existing.has(topic));
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed });
    await waitFor(async () => ((await admin.listTopics()).some((topic) => doomed.includes(topic)) ? undefined : true), { timeoutMs: 60_000, intervalMs: 250, describe: 'the changelogs deleted' });
  } finally {
    await admin.disconnect();
  }
}
