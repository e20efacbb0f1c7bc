import { KafkaJS } from '@confluentinc/kafka-javascript';

export type Kafka = KafkaJS.Kafka;
export type Producer = KafkaJS.Producer;
export type Consumer = KafkaJS.Consumer;
export type Admin = KafkaJS.Admin;

export interface KafkaOptions {
  /** Bootstrap brokers. Default ['127.0.0.1:9092']. */
  brokers: string[];
  /** Client id prefix reported to the brokers. Default 'shopstream'. */
  clientId: string;
}

export const DEFAULT_KAFKA_OPTIONS: KafkaOptions = { brokers: ['127.0.0.1:9092'], clientId: 'shopstream' };

/** A KafkaJS-style client on librdkafka (@confluentinc/kafka-javascript). Quiet unless errors. */
export function createKafka(options: Partial<KafkaOptions> = {}): Kafka {
  const { brokers, clientId } = { ...DEFAULT_KAFKA_OPTIONS, ...options };
  return new KafkaJS.Kafka({ kafkaJS: { brokers, clientId, logLevel: KafkaJS.logLevel.ERROR } });
}

/** Lists topics through a short-lived admin client: a health probe that proves the broker serves metadata. */
export async function probeKafka(brokers: string[], timeoutMs = 5_000): Promise<string> {
  const admin = createKafka({ brokers, clientId: 'shopstream-probe' }).admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics({ timeout: timeoutMs });
    return `${topics.filter((topic) => !topic.startsWith('__')).length} topics`;
  } finally {
    await admin.disconnect();
  }
}
