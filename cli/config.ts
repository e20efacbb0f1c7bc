import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { LogLevel } from '../core/log.js';
import { resolveStackOptions, type StackOptions } from '../stack/options.js';
import type { ClickHouseOptions } from '../clickhouse/client.js';
import type { KafkaOptions } from '../kafka/client.js';
import type { MysqlOptions } from '../mysql/pool.js';

/**
 * The only place that reads environment variables (README, "Configuration"). Each component
 * gets its own typed options; their defaults live with the component and are applied there.
 */
export interface EntryConfig {
  stack: StackOptions;
  mysql: MysqlOptions;
  kafka: KafkaOptions;
  registryUrl: string;
  clickhouse: ClickHouseOptions;
  topicPrefix: string;
  httpPort: number;
  httpHost: string;
  logLevel: LogLevel;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): EntryConfig {
  const stack = resolveStackOptions({
    dir: env.SHOPSTREAM_STACK_DIR,
    mysqlAdminUrl: env.MYSQL_ADMIN_URL,
    mysqlUrl: env.MYSQL_URL,
    kafkaBroker: env.KAFKA_BROKERS?.split(',')[0]?.trim(),
    kafkaControllerPort: int(env, 'KAFKA_CONTROLLER_PORT'),
    registryUrl: env.SCHEMA_REGISTRY_URL,
    registryVersion: env.SHOPSTREAM_REGISTRY_VERSION,
    clickhouseUrl: env.CLICKHOUSE_URL || undefined,
    clickhousePath: env.CLICKHOUSE_PATH,
    startTimeoutMs: int(env, 'SHOPSTREAM_STACK_TIMEOUT_MS'),
  });
  const brokers = (env.KAFKA_BROKERS ?? stack.kafkaBroker).split(',').map((b) => b.trim()).filter(Boolean);
  return {
    stack,
    mysql: { url: stack.mysqlUrl, connectionLimit: int(env, 'MYSQL_POOL_SIZE') ?? 20 },
    kafka: { brokers, clientId: env.KAFKA_CLIENT_ID ?? 'shopstream' },
    registryUrl: stack.registryUrl,
    clickhouse: {
      url: stack.clickhouseUrl,
      path: stack.clickhousePath ?? join(stack.dir, 'clickhouse'),
      database: env.CLICKHOUSE_DATABASE ?? 'analytics',
    },
    topicPrefix: env.SHOPSTREAM_TOPIC_PREFIX ?? '',
    httpPort: int(env, 'PORT') ?? 3000,
    httpHost: env.HOST ?? '0.0.0.0',
    logLevel: (env.LOG_LEVEL as LogLevel | undefined) ?? 'info',
  };
}

function int(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${name} must be a non-negative integer (got "${raw}")`);
  return value;
}
