import { KafkaJS } from '@confluentinc/kafka-javascript';
import { createLogger, type Logger } from '../core/log.js';

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

/**
 * The client's own log lines go to shopstream's logger at debug level: connection errors during an
 * outage are expected and retried, and the components report their consequences themselves (the
 * relay's failed batches, readiness). LOG_LEVEL=debug shows them.
 */
function clientLogger(logger: Logger): KafkaJS.Logger {
  const log = (message: string, extra?: object) => logger.debug(message, extra as Record<string, unknown> | undefined);
  const self: KafkaJS.Logger = { info: log, error: log, warn: log, debug: log, namespace: () => self, setLogLevel: () => undefined };
  return self;
}

/** Where a client's own log lines go. */
export interface KafkaClientLog {
  /** Default: shopstream's logger `kafka` (debug level). */
  logger?: Logger;
  /** Pass librdkafka's debug lines as well (those of the contexts a client's `debug` setting names). Default false. */
  verbose?: boolean;
}

/** A KafkaJS-style client on librdkafka (@confluentinc/kafka-javascript). */
export function createKafka(options: Partial<KafkaOptions> = {}, log: KafkaClientLog = {}): Kafka {
  const { brokers, clientId } = { ...DEFAULT_KAFKA_OPTIONS, ...options };
  const logLevel = log.verbose ? KafkaJS.logLevel.DEBUG : KafkaJS.logLevel.WARN;
  return new KafkaJS.Kafka({ kafkaJS: { brokers, clientId, logLevel, logger: clientLogger(log.logger ?? createLogger('kafka')) } });
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

/**
 * A readiness check on a long-lived admin client: do the brokers serve metadata right now?
 * (Shape of api/ports ReadinessCheck.)
 */
export function kafkaReadiness(admin: Admin, timeoutMs = 2_000): () => Promise<{ name: string; ok: boolean; detail?: string }> {
  return async () => {
    try {
      await admin.listTopics({ timeout: timeoutMs });
      return { name: 'kafka', ok: true };
    } catch (error) {
      return { name: 'kafka', ok: false, detail: (error as Error).message };
    }
  };
}

/** librdkafka's numeric error code of a client error (the KafkaJS-compat errors carry it as `code`). */
export function kafkaErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * The group has moved on without this member (a rebalance is under way, or it was expelled), so
 * the partitions it was working on may already belong to another member: ILLEGAL_GENERATION,
 * UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID, and librdkafka's
 * ASSIGNMENT_LOST / MAX_POLL_EXCEEDED. Retrying the same commit cannot succeed.
 */
export function isMembershipLost(error: unknown): boolean {
  const code = kafkaErrorCode(error);
  return code !== undefined && [22, 25, 27, 82, -142, -147].includes(code);
}
