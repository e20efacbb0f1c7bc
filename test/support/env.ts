import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { configFromEnv } from '../../cli/config.js';
import type { PipelineConfig, Role } from '../../cli/pipeline.js';
import { createKafka } from '../../kafka/client.js';
import { TOPIC_KEYS, topicNames } from '../../kafka/topics.js';
import { migrateMysql } from '../../mysql/migrate.js';
import { createMysqlPool } from '../../mysql/pool.js';

export const entry = configFromEnv();

/** A short unique suffix for the names one test owns. */
export function uniqueId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * A database of the test's own (named like the application's, which its user may create),
 * migrated; `drop` removes it.
 */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const app = new URL(entry.mysql.url);
  const name = `${app.pathname.slice(1)}_t_${uniqueId()}`;
  const server = new URL(app);
  server.pathname = '/';
  const admin = await mysql.createConnection({ uri: server.toString() });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await admin.end();
  const url = new URL(app);
  url.pathname = `/${name}`;
  const pool = createMysqlPool({ url: url.toString(), connectionLimit: 1 });
  await migrateMysql(pool);
  await pool.end();
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const conn = await mysql.createConnection({ uri: server.toString() });
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}

/** Pipeline settings with every name (database, topics, groups, ClickHouse folder) unique to the test. */
export async function isolatedPipelineConfig(roles: readonly Role[]): Promise<{ config: PipelineConfig; cleanup: () => Promise<void> }> {
  const id = uniqueId();
  const database = await createTestDatabase();
  const clickhousePath = mkdtempSync(join(tmpdir(), 'shopstream-ch-'));
  const topicPrefix = `t${id}.`;
  const config: PipelineConfig = {
    roles,
    mysql: { url: database.url, connectionLimit: 20 },
    kafka: entry.kafka,
    registryUrl: entry.registryUrl,
    clickhouse: { url: entry.clickhouse.url, path: clickhousePath, database: `analytics_t${id}` },
    topicPrefix,
    topicLayout: { partitions: 3, replicationFactor: 1 },
    groupPrefix: `t${id}`,
    httpPort: 0,
    httpHost: '127.0.0.1',
    seedDemo: false,
    writeRateLimit: { perSecond: 10_000, burst: 20_000 },
  };
  const cleanup = async () => {
    await database.drop();
    rmSync(clickhousePath, { recursive: true, force: true });
    await deleteTopics(topicPrefix, config.groupPrefix);
  };
  return { config, cleanup };
}

/** Deletes the topics a test made: its prefixed pipeline topics and, with `groupPrefix`, its changelogs. */
export async function deleteTopics(prefix: string, groupPrefix?: string): Promise<void> {
  const admin = createKafka({ ...entry.kafka, clientId: 'shopstream-test' }).admin();
  await admin.connect();
  try {
    const names = new Set(Object.values(topicNames(prefix)));
    const doomed = (await admin.listTopics()).filter((name) => names.has(name) || (groupPrefix !== undefined && name.startsWith(`${groupPrefix}-`)));
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed });
  } finally {
    await admin.disconnect();
  }
}

export { TOPIC_KEYS };
