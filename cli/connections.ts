import type { ClickHouseOptions } from '../clickhouse/client.js';
import type { KafkaOptions } from '../kafka/client.js';
import type { TopicLayout } from '../kafka/topics.js';
import type { MysqlOptions } from '../mysql/pool.js';

/** Where the pipeline's services are and how its topics are named. */
export interface ServiceConnections {
  mysql: MysqlOptions;
  kafka: KafkaOptions;
  registryUrl: string;
  clickhouse: ClickHouseOptions;
  /** Prefix of every topic name (tests use a unique one). */
  topicPrefix: string;
  /** Prefix of consumer groups, transactional ids and changelog topics. Default 'shopstream'. */
  groupPrefix: string;
  /** Partitions and replication of the topics the pipeline creates. */
  topicLayout: TopicLayout;
}
