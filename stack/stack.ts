import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../core/retry.js';
import { createKafka, probeKafka } from '../kafka/client.js';
import { ensureTopics, topicNames, topicSpecs } from '../kafka/topics.js';
import { clickhouseStatus, clickhouseUp } from './clickhouse.js';
import { kafkaDown, kafkaStatus, kafkaUp } from './kafka.js';
import { mariadbDown, mariadbStatus, mariadbUp } from './mariadb.js';
import { prometheusDown, prometheusStatus, prometheusUp } from './prometheus.js';
import { registryDown, registryStatus, registryUp } from './registry.js';
import type { ServiceStatus, StackOptions } from './options.js';

/**
 * `stack up`: brings every local service to ready (starting what is not running), creates the
 * pipeline topics, and returns. Idempotent; concurrent callers serialize on a lock file.
 */
export async function stackUp(options: StackOptions): Promise<void> {
  await withLock(options, async () => {
    options.say(`Starting the local stack (data and logs in ${options.dir})`);
    await Promise.all([mariadbUp(options), kafkaUp(options), registryUp(options), clickhouseUp(options)]);
    const admin = createKafka({ brokers: [options.kafkaBroker], clientId: 'shopstream-stack' }).admin();
    await admin.connect();
    try {
      const created = await ensureTopics(admin, topicSpecs(topicNames()));
      if (created.length > 0) options.say(`  Kafka: created topics ${created.join(', ')}`);
    } finally {
      await admin.disconnect();
    }
    // Last: it only watches the others (and the pipeline, once it runs).
    await prometheusUp(options);
    options.say('The local stack is up.');
  });
}

/** `stack down`: stops the services the stack started; servers it found running are left alone. */
export async function stackDown(options: StackOptions): Promise<void> {
  await withLock(options, async () => {
    options.say('Stopping the local stack');
    await prometheusDown(options);
    await registryDown(options);
    await kafkaDown(options);
    await mariadbDown(options);
  });
}

export async function stackStatus(options: StackOptions): Promise<ServiceStatus[]> {
  return Promise.all([
    mariadbStatus(options),
    kafkaStatus(options, (broker) => probeKafka([broker])),
    registryStatus(options),
    clickhouseStatus(options),
    prometheusStatus(options),
  ]);
}

export function formatStatus(statuses: ServiceStatus[]): string {
  const rows = statuses.map((s) => [s.service, s.healthy ? 'healthy' : 'DOWN', s.version ?? '-', s.address, s.mode, s.detail ?? '']);
  const header = ['SERVICE', 'HEALTH', 'VERSION', 'ADDRESS', 'MODE', 'DETAIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

async function withLock(options: StackOptions, work: () => Promise<void>): Promise<void> {
  const lockFile = join(options.dir, 'run', 'stack.lock');
  mkdirSync(join(options.dir, 'run'), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch {
      if (!lockHolderAlive(lockFile)) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another stack command holds ${lockFile}`);
      await sleep(500);
    }
  }
  try {
    await work();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

function lockHolderAlive(lockFile: string): boolean {
  if (!existsSync(lockFile)) return false;
  const pid = Number(readFileSync(lockFile, 'utf8'));
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
