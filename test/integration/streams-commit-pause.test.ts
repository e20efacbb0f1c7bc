import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline, type PipelineConfig } from '../../cli/pipeline.js';
import { waitFor } from '../../core/retry.js';
import { Supervisor } from '../../core/supervisor.js';
import { Transactions } from '../../kafka/transactions.js';
import { baseTopicName, TOPIC_KEYS } from '../../kafka/topics.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { AvroRegistry } from '../../registry/avro-registry.js';
import { runningPid } from '../../stack/process.js';
import { kafkaDown, kafkaUp } from '../../stack/kafka.js';
import { resolveStackOptions, type StackOptions } from '../../stack/options.js';
import { KafkaStreams } from '../../streams/kafka-streams.js';
import { PartitionReader } from '../../streams/internal/partition-reader.js';
import { buildShopstreamTopology, registrySerdes } from '../../streams/shopstream/topology.js';
import { entry, isolatedPipelineConfig } from '../support/env.js';
import { freePort } from '../support/process.js';
import { unpublishedCount } from '../support/relay.js';
import { driftOf, finalOrders } from '../support/truth.js';
import { lossReport } from '../support/loss-report.js';
import { runWorkload } from '../support/workload.js';

const DAYS = 4;

/**
 * A stream transaction's commit whose outcome is unknown: the broker (the transaction
 * coordinator) is paused with SIGSTOP in the middle of a commit, longer than the client's commit
 * timeout (5 s), under load, then resumed. Twice: once right before the commit request goes out
 * and for longer than the transaction timeout (the coordinator may abort the transaction first),
 * once just after it went out (the commit may land while its answer does not). The broker is this
 * test's own. Afterwards no signed row is loaded twice, nothing stalls, and every aggregate
 * equals MySQL.
 */
describe('stream commits with an unknown outcome', () => {
  let stack: StackOptions;
  let config: PipelineConfig;
  let cleanup: () => Promise<void>;
  let pipeline: Pipeline | undefined;
  let supervisor: Supervisor | undefined;
  let restoreCommit = () => undefined as void;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shopstream-kafka-'));
    stack = resolveStackOptions({ dir, kafkaBroker: `127.0.0.1:${await freePort()}`, kafkaControllerPort: await freePort(), kafkaHeapMb: 384, say: () => undefined });
    await kafkaUp(stack);
    const isolated = await isolatedPipelineConfig(['api', 'relay', 'sink']);
    config = { ...isolated.config, kafka: { brokers: [stack.kafkaBroker], clientId: 'pause-test' } };
    cleanup = isolated.cleanup;
  }, 240_000);

  afterAll(async () => {
    restoreCommit();
    await supervisor?.stop();
    await pipeline?.stop();
    if (stack) {
      const pid = runningPid({ pidFile: join(stack.dir, 'run', 'kafka.pid'), logFile: '', marker: stack.dir });
      if (pid) process.kill(pid, 'SIGCONT');
      await kafkaDown(stack);
      rmSync(stack.dir, { recursive: true, force: true });
    }
    // Topics lived on this test's broker, gone with it; the database and ClickHouse folder remain.
    await cleanup?.().catch(() => undefined);
  });

  it('loads no signed row twice, does not stall, and ends with drift 0', async () => {
    pipeline = await startPipeline(config);
    const brokerPid = runningPid({ pidFile: join(stack.dir, 'run', 'kafka.pid'), logFile: '', marker: stack.dir })!;
    expect(brokerPid).toBeGreaterThan(0);

    // The streams role as the pipeline runs it (supervised), with a hand on its commits.
    const topics = pipeline.topics;
    const prefixed = new Map(TOPIC_KEYS.map((key) => [baseTopicName(key), topics[key]]));
    const registry = new AvroRegistry({ url: config.registryUrl, topicFor: (base) => prefixed.get(base)! });
    const pauses: { atCommit: number; delayMs: number; pauseMs: number; done: boolean }[] = [
      { atCommit: 15, delayMs: 0, pauseMs: 12_000, done: false },
      { atCommit: 40, delayMs: 2, pauseMs: 7_000, done: false },
    ];
    let commits = 0;
    // Every commit of a stream transaction in this process goes through Transactions.commit.
    const commit = Transactions.prototype.commit;
    Transactions.prototype.commit = function (this: Transactions, timeoutMs?: number) {
      const pause = pauses.find((p) => !p.done && ++commits >= p.atCommit);
      if (pause) {
        pause.done = true;
        const stop = () => {
          process.kill(brokerPid, 'SIGSTOP');
          setTimeout(() => process.kill(brokerPid, 'SIGCONT'), pause.pauseMs);
        };
        if (pause.delayMs === 0) stop();
        else setTimeout(stop, pause.delayMs);
      }
      return commit.call(this, timeoutMs);
    };
    restoreCommit = () => void (Transactions.prototype.commit = commit);
    supervisor = new Supervisor(
      (onFatal) =>
        new KafkaStreams(buildShopstreamTopology(topics, registrySerdes(registry)), config.kafka, {
          applicationId: `${config.groupPrefix}-streams`,
          deadLetterTopic: topics.deadLetter,
          onFatal,
          // Above the longest legitimate operation here (a commit asked again through a 12 s pause),
          // well below the default, so a stuck operation restarts the instance within this test's time.
          stallTimeoutMs: 60_000,
        }),
      { name: 'streams', initialDelayMs: 200, maxDelayMs: 2_000 },
    );
    await supervisor.start();

    const batches: { at: string; done?: string; rows: string[]; error?: string }[] = [];
    {
      const relay = pipeline.relay as unknown as { publisher: { publish: (rows: { aggregateId: string; aggregateVersion: number; id: string; aggregateType: string }[]) => Promise<unknown> } };
      const publish = relay.publisher.publish.bind(relay.publisher);
      relay.publisher.publish = async (rows) => {
        const entry: (typeof batches)[number] = { at: new Date().toISOString(), rows: rows.map((r) => `${r.id}:${r.aggregateType}:${r.aggregateId.slice(0, 8)}:v${r.aggregateVersion}`) };
        batches.push(entry);
        try {
          return await publish(rows);
        } catch (error) {
          entry.error = String(error);
          throw error;
        } finally {
          entry.done = new Date().toISOString();
        }
      };
    }
    const deps = { store: mysqlOrderStore(pipeline.pool!), signal: pipeline.relay };
    const users = (await runWorkload(deps, { operations: 1_500, seed: 20261203, days: DAYS, concurrency: 6 })).users;
    // Keep writing until both pauses happened, so each strikes a commit under load.
    for (let round = 1; !pauses.every((p) => p.done); round++) users.push(...(await runWorkload(deps, { operations: 200, seed: 20261203 + round, days: DAYS, concurrency: 4 })).users);
    await waitFor(async () => ((await unpublishedCount(pipeline!.pool!)) === 0 ? true : undefined), { timeoutMs: 120_000, describe: 'the outbox drained' });

    const db = config.clickhouse.database;
    const clickhouse = pipeline.clickhouse!;
    await waitFor(
      async () => ((await driftOf(pipeline!.pool!, clickhouse, db, users, DAYS)).length === 0 ? true : undefined),
      { timeoutMs: 180_000, intervalMs: 1_000, describe: 'zero drift after the pauses' },
    ).catch(async (error) => {
      const report = await lossReport(pipeline!.pool!, clickhouse, db, { topics, registry }, config.kafka);
      console.log(report);
      const ids = (JSON.parse(report) as { differing: { id: string }[] }).differing.map((d) => d.id);
      const [outbox] = await pipeline!.pool!.query('SELECT id, aggregate_id, aggregate_version, event_type, created_at, published_at FROM outbox WHERE aggregate_id IN (?) ORDER BY id', [ids]);
      console.log(JSON.stringify(outbox));
      const reader = new PartitionReader(config.kafka.brokers, 'pause-diagnosis');
      await reader.connect();
      const seen: unknown[] = [];
      await reader.readToEnd([0, 1, 2].map((partition) => ({ topic: topics.orders, partition })), (record) => {
        if (record.key && ids.includes(record.key)) seen.push({ partition: record.partition, offset: record.offset, key: record.key });
      });
      await reader.close();
      console.log('orders topic, read to its end:', JSON.stringify(seen));
      const short = ids.map((id) => id.slice(0, 8));
      for (const b of batches) {
        const mine = b.rows.filter((r) => short.some((id) => r.includes(`:${id}:`)));
        if (mine.length > 0) console.log('relay batch', b.at, b.done, b.error ?? '', b.rows.length, mine.join(' '));
      }
      throw error;
    });
    const duplicates = await (
      await clickhouse.query({ query: `SELECT toString(order_id) AS id, version, sign, count() AS n FROM ${db}.order_changes GROUP BY id, version, sign HAVING n > 1`, format: 'JSONEachRow' })
    ).json();
    expect(duplicates).toEqual([]);
    const final = await waitFor(
      async () => {
        const rows = await finalOrders(pipeline!.pool!, clickhouse, db);
        return JSON.stringify(rows.clickhouse) === JSON.stringify(rows.mysql) ? rows : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, describe: 'orders FINAL equal to MySQL' },
    ).catch(async (error) => {
      const rows = await finalOrders(pipeline!.pool!, clickhouse, db);
      const ch = new Map(rows.clickhouse.map((r) => [r.id, r]));
      const differing = rows.mysql.filter((r) => JSON.stringify(ch.get(r.id)) !== JSON.stringify(r)).slice(0, 5);
      console.log('orders FINAL differing from MySQL', rows.mysql.length, rows.clickhouse.length, JSON.stringify(differing.map((r) => ({ mysql: r, clickhouse: ch.get(r.id) ?? null }))));
      throw error;
    });
    expect(final.mysql.length).toBeGreaterThan(100);
    // Restarts are expected (a pause past the transaction timeout fences the producer); a
    // STREAMS_STALLED among them says an operation hung and the watchdog replaced the instance.
    console.log('streams-commit-pause: supervisor', JSON.stringify(supervisor.status()));
    expect(supervisor.status().state).toBe('running');
  }, 600_000);
});
