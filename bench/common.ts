import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { configFromEnv, type EntryConfig } from '../cli/config.js';
import { createKafka } from '../kafka/client.js';
import { topicNames } from '../kafka/topics.js';
import { migrateMysql } from '../mysql/migrate.js';
import { createMysqlPool } from '../mysql/pool.js';

/** An isolated database, topic prefix and ClickHouse folder, removed by `cleanup`. */
export interface BenchEnv {
  entry: EntryConfig;
  id: string;
  databaseUrl: string;
  topicPrefix: string;
  clickhousePath: string;
  cleanup(): Promise<void>;
}

export async function benchEnv(): Promise<BenchEnv> {
  const entry = configFromEnv();
  const id = randomBytes(4).toString('hex');
  const name = `${new URL(entry.mysql.url).pathname.slice(1)}_bench_${id}`;
  const server = new URL(entry.mysql.url);
  server.pathname = '/';
  const admin = await mysql.createConnection({ uri: server.toString() });
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.end();
  const url = new URL(entry.mysql.url);
  url.pathname = `/${name}`;
  const pool = createMysqlPool({ url: url.toString(), connectionLimit: 1 });
  await migrateMysql(pool);
  await pool.end();
  const clickhousePath = mkdtempSync(join(tmpdir(), 'shopstream-bench-'));
  const topicPrefix = `bench${id}.`;
  return {
    entry,
    id,
    databaseUrl: url.toString(),
    topicPrefix,
    clickhousePath,
    async cleanup() {
      const conn = await mysql.createConnection({ uri: server.toString() });
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
      rmSync(clickhousePath, { recursive: true, force: true });
      const kafkaAdmin = createKafka(entry.kafka).admin();
      await kafkaAdmin.connect();
      // Its pipeline topics and the changelogs of its stream groups (named after `bench<id>`).
      const names = new Set(Object.values(topicNames(topicPrefix)));
      const doomed = (await kafkaAdmin.listTopics()).filter((name) => names.has(name) || name.startsWith(`bench${id}-`));
      await kafkaAdmin.deleteTopics({ topics: doomed }).catch(() => undefined);
      await kafkaAdmin.disconnect();
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/** Peak resident memory of this process, sampled every 100 ms until `stop`. */
export function memorySampler(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  return {
    stop() {
      clearInterval(timer);
      return round(Math.max(peak, process.memoryUsage().rss) / 2 ** 20, 0);
    },
  };
}

export function writeResults(results: Record<string, unknown>): string {
  const dir = new URL('./results/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString();
  const file = join(dir, `bench-${date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ date, machine: { cpus: cpus().length, memoryGiB: round(totalmem() / 2 ** 30, 0), node: process.version }, ...results }, null, 2)}\n`);
  return file;
}

export function flag(argv: string[], name: string, fallback: number): number {
  const index = argv.indexOf(name);
  return index >= 0 ? Number(argv[index + 1]) : fallback;
}

/**
 * Raises the MySQL/MariaDB server's InnoDB buffer pool to at least `bytes` for the bench and
 * returns how to put it back (the server is the user's: it is restored after the run). When the
 * admin account cannot change it, the bench runs with what the server has and says so.
 */
export async function ensureBufferPool(adminUrl: string, bytes: number): Promise<{ sizeMiB: number; restore(): Promise<void> }> {
  const admin = await mysql.createConnection({ uri: adminUrl });
  const current = async () => Number(((await admin.query('SELECT @@innodb_buffer_pool_size AS size')) as unknown as [[{ size: string }]])[0][0].size);
  const original = await current();
  if (original < bytes) {
    try {
      await admin.query('SET GLOBAL innodb_buffer_pool_size = ?', [bytes]);
      for (let i = 0; i < 100 && (await current()) < bytes; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      console.log(`bench: innodb_buffer_pool_size raised from ${original / 2 ** 20} MiB to ${bytes / 2 ** 20} MiB for the run`);
    } catch (error) {
      console.log(`bench: could not raise innodb_buffer_pool_size (${(error as Error).message}); running with ${original / 2 ** 20} MiB`);
    }
  }
  const sizeMiB = (await current()) / 2 ** 20;
  return {
    sizeMiB,
    async restore() {
      if ((await current()) !== original) await admin.query('SET GLOBAL innodb_buffer_pool_size = ?', [original]).catch(() => undefined);
      await admin.end();
    },
  };
}
