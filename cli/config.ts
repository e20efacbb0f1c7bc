import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { LogLevel } from '../core/log.js';
import { resolveStackOptions, type StackOptions } from '../stack/options.js';
import { DEFAULT_TOPIC_LAYOUT } from '../kafka/topics.js';
import type { ServiceConnections } from './connections.js';

/**
 * Every environment variable shopstream reads, with its default: the README's configuration
 * table and the docker-compose check are held to this list.
 */
export const ENV_VARS = {
  PORT: 'HTTP port of the API, dashboard, /metrics and health endpoints (3000)',
  HOST: 'HTTP bind address (0.0.0.0)',
  API_WRITES_PER_SECOND: 'write requests per second per client (its admin token, else its address) before 429, counted per 2-second window of twice that; 0 turns the limit off (200)',
  API_RATE_LIMIT_STORE: '`memory`: each process counts on its own; `mysql`: every API replica shares one budget per client (memory)',
  API_TRUST_PROXY: 'Express `trust proxy`: `true`, a hop count, or addresses/subnets of the proxies whose X-Forwarded-For names the client; unset: the peer address is the client (false)',
  MYSQL_URL: 'application database (mysql://shopstream:shopstream@127.0.0.1:3306/shopstream)',
  MYSQL_ADMIN_URL: '`stack up` only: account that creates the database and user (mysql://root@127.0.0.1:3306)',
  MYSQL_POOL_SIZE: 'connections per process (20)',
  KAFKA_BROKERS: 'comma-separated bootstrap brokers (127.0.0.1:9092)',
  KAFKA_CLIENT_ID: 'client id reported to Kafka (shopstream)',
  KAFKA_CONTROLLER_PORT: '`stack up` only: KRaft controller port of the local broker (9093)',
  KAFKA_TOPIC_PARTITIONS: 'partitions of each pipeline topic when the project creates it (6)',
  KAFKA_DERIVED_TOPIC_PARTITIONS: 'partitions of the derived topics the ClickHouse sink loads (orders-enriched, order-changes, pipeline-canary) (1 with the embedded engine, which one process owns; else KAFKA_TOPIC_PARTITIONS)',
  KAFKA_REPLICATION_FACTOR: 'replication factor of the topics the project creates (1; 3 on the distributed stack)',
  SCHEMA_REGISTRY_URL: 'Confluent-compatible registry API (http://127.0.0.1:8081/apis/ccompat/v7)',
  CLICKHOUSE_URL: 'ClickHouse server (http://user:password@host:8123); unset: the embedded engine',
  CLICKHOUSE_PATH: 'data folder of the embedded engine (.stack/clickhouse)',
  CLICKHOUSE_DATABASE: 'analytics database (analytics)',
  SHOPSTREAM_TOPIC_PREFIX: 'prefix of every topic name (none)',
  SHOPSTREAM_GROUP_PREFIX: 'prefix of consumer groups, transactional ids and changelog topics (shopstream)',
  SHOPSTREAM_STACK_DIR: 'data, logs and pid files of the local stack (.stack)',
  SHOPSTREAM_STACK_TIMEOUT_MS: 'how long `stack up` waits for each service (120000)',
  SHOPSTREAM_REGISTRY_VERSION: 'Apicurio Registry version for `stack up` (3.3.3 on Java 21+, else 3.0.9)',
  PROMETHEUS_PORT: '`stack up` only: port of the project\'s Prometheus, bound to 127.0.0.1 (9090)',
  PROMETHEUS_TARGETS: '`stack up` only: comma-separated `host:port` of the shopstream processes its Prometheus scrapes (localhost:`PORT`)',
  LOG_LEVEL: 'debug, info, warn, error or silent (info)',
  MONITOR_GROUPS: 'comma-separated consumer groups the `monitor` role reports lag for besides the pipeline\'s own `<SHOPSTREAM_GROUP_PREFIX>-streams` and `-sink`, e.g. Kafka Connect\'s `connect-<connector>` (none)',
  MONITOR_INTERVAL_MS: 'time between two lag collections of the `monitor` role, at least 100 (5000)',
  CANARY_INTERVAL_MS: 'time between two canary heartbeats, emitted by the processes running the `relay` role; 0 turns the canary off, and it must be off or on alike in every process (5000)',
  CANARY_LOST_AFTER_MS: 'a canary heartbeat not in ClickHouse this long after it was emitted counts as lost (60000)',
  CANARY_STALE_AFTER_MS: '`/readyz` of a process with the `api` role answers 503 (check `canary`) while the newest canary heartbeat in ClickHouse is older than this (3 × CANARY_INTERVAL_MS + 10000)',
} as const;

/**
 * The only place that reads environment variables. Each component gets its own typed options;
 * their defaults live with the component and are applied there.
 */
export interface EntryConfig extends ServiceConnections {
  stack: StackOptions;
  httpPort: number;
  httpHost: string;
  writeRateLimit: { perSecond: number; burst: number };
  rateLimitStore: 'memory' | 'mysql';
  trustProxy: boolean | number | string;
  logLevel: LogLevel;
  monitor: { groups: string[]; intervalMs?: number };
  canary: { intervalMs?: number; lostAfterMs?: number; staleAfterMs?: number };
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
    prometheusPort: int(env, 'PROMETHEUS_PORT'),
    prometheusTargets: scrapeTargets(env.PROMETHEUS_TARGETS, int(env, 'PORT') ?? 3000),
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
    groupPrefix: env.SHOPSTREAM_GROUP_PREFIX || 'shopstream',
    topicLayout: {
      partitions: int(env, 'KAFKA_TOPIC_PARTITIONS') ?? DEFAULT_TOPIC_LAYOUT.partitions,
      replicationFactor: int(env, 'KAFKA_REPLICATION_FACTOR') ?? DEFAULT_TOPIC_LAYOUT.replicationFactor,
      // The embedded engine has one owner process, hence one sink: one partition each makes its
      // inserts few and large. A server may have several sinks sharing the partitions.
      derivedPartitions: int(env, 'KAFKA_DERIVED_TOPIC_PARTITIONS') ?? (stack.clickhouseUrl ? undefined : 1),
    },
    httpPort: int(env, 'PORT') ?? 3000,
    httpHost: env.HOST ?? '0.0.0.0',
    writeRateLimit: ((perSecond) => ({ perSecond, burst: perSecond * 2 }))(int(env, 'API_WRITES_PER_SECOND') ?? 200),
    rateLimitStore: oneOf(env.API_RATE_LIMIT_STORE || 'memory', 'API_RATE_LIMIT_STORE', ['memory', 'mysql'] as const),
    trustProxy: trustProxy(env.API_TRUST_PROXY),
    logLevel: (env.LOG_LEVEL as LogLevel | undefined) ?? 'info',
    monitor: { groups: (env.MONITOR_GROUPS ?? '').split(',').map((g) => g.trim()).filter(Boolean), ...monitorInterval(int(env, 'MONITOR_INTERVAL_MS')) },
    canary: canaryTimes(int(env, 'CANARY_INTERVAL_MS'), int(env, 'CANARY_LOST_AFTER_MS'), int(env, 'CANARY_STALE_AFTER_MS')),
  };
}

/** Only what is set (the components hold the defaults); an interval under 100 ms other than 0 would spin. */
function canaryTimes(intervalMs: number | undefined, lostAfterMs: number | undefined, staleAfterMs: number | undefined): EntryConfig['canary'] {
  if (intervalMs !== undefined && intervalMs !== 0 && intervalMs < 100) throw new ConfigError(`CANARY_INTERVAL_MS must be 0 (off) or at least 100 (got "${intervalMs}")`);
  for (const [name, ms] of [['CANARY_LOST_AFTER_MS', lostAfterMs], ['CANARY_STALE_AFTER_MS', staleAfterMs]] as const) {
    if (ms !== undefined && ms < 1_000) throw new ConfigError(`${name} must be at least 1000 (got "${ms}")`);
  }
  return {
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    ...(lostAfterMs !== undefined ? { lostAfterMs } : {}),
    ...(staleAfterMs !== undefined ? { staleAfterMs } : {}),
  };
}

function monitorInterval(ms: number | undefined): { intervalMs?: number } {
  if (ms === undefined) return {};
  if (ms < 100) throw new ConfigError(`MONITOR_INTERVAL_MS must be at least 100 (got "${ms}")`);
  return { intervalMs: ms };
}

/** `host:port,host:port`; by default the pipeline on this machine. */
function scrapeTargets(raw: string | undefined, port: number): string[] {
  const targets = (raw ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  for (const target of targets) {
    if (!/^(\[[0-9a-fA-F:]+\]|[^\s:/[\]]+):\d+$/.test(target)) throw new ConfigError(`PROMETHEUS_TARGETS must list host:port entries (got "${target}")`);
  }
  return targets.length > 0 ? targets : [`localhost:${port}`];
}

function oneOf<T extends string>(raw: string, name: keyof typeof ENV_VARS, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
  return raw as T;
}

/** `true`/`false`, a hop count, or Express's list of trusted addresses, subnets and names. */
function trustProxy(raw: string | undefined): boolean | number | string {
  const value = raw?.trim() ?? '';
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

function int(env: NodeJS.ProcessEnv, name: keyof typeof ENV_VARS): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${name} must be a non-negative integer (got "${raw}")`);
  return value;
}
