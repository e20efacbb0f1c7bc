import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { CommittedOffset, FirstRecordAnswer, GroupMembership, LagSource, PartitionEnd, RecordRequest } from '../monitoring/lag-source.js';
import { kafkaErrorCode, type Admin, type Kafka, type KafkaOptions } from './client.js';
import { FirstRecordReader } from './first-record-reader.js';

const GROUP_STATES = ['Unknown', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty'];
const UNKNOWN_TOPIC_OR_PARTITION = 3;

/**
 * The lag collector's view of Kafka: committed offsets and group members through the admin
 * client, last stable offsets through ListOffsets with READ_COMMITTED, and the records at
 * committed offsets through a FirstRecordReader. `connect` before use, `close` after.
 */
export class KafkaLagSource implements LagSource {
  private readonly admin: Admin;
  private readonly reader: FirstRecordReader;

  constructor(kafka: Kafka, options: KafkaOptions & { timeoutMs?: number }) {
    this.admin = kafka.admin();
    this.reader = new FirstRecordReader({ brokers: options.brokers, clientId: `${options.clientId}-lag`, timeoutMs: options.timeoutMs ?? 5_000 });
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await this.reader.connect().catch(async (error) => {
      await this.admin.disconnect();
      throw error;
    });
  }

  async committedOffsets(group: string): Promise<CommittedOffset[]> {
    const topics = await this.admin.fetchOffsets({ groupId: group, timeout: 5_000 });
    return topics.flatMap(({ topic, partitions }) =>
      partitions.map((p) => {
        if (p.error) throw p.error;
        return { topic, partition: p.partition, offset: Number(p.offset) >= 0 ? BigInt(p.offset) : null };
      }),
    );
  }

  async partitionEnds(topic: string): Promise<PartitionEnd[] | undefined> {
    try {
      const offsets = await this.admin.fetchTopicOffsets(topic, { timeout: 5_000, isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED });
      return offsets.map((o) => ({ partition: o.partition, lastStable: BigInt(o.offset), logStart: BigInt(o.low) }));
    } catch (error) {
      if (kafkaErrorCode(error) === UNKNOWN_TOPIC_OR_PARTITION) return undefined;
      throw error;
    }
  }

  async membership(groups: string[]): Promise<Map<string, GroupMembership>> {
    const { groups: described } = await this.admin.describeGroups(groups, { timeout: 5_000 });
    const result = new Map<string, GroupMembership>();
    for (const group of described) {
      if (group.error) throw group.error;
      result.set(group.groupId, { members: group.members.length, state: GROUP_STATES[group.state] ?? String(group.state) });
    }
    return result;
  }

  firstRecords(requests: RecordRequest[]): Promise<Map<string, FirstRecordAnswer>> {
    return this.reader.read(requests);
  }

  async close(): Promise<void> {
    await this.reader.close().catch(() => undefined);
    await this.admin.disconnect();
  }
}
