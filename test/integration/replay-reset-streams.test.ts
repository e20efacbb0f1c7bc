import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline, type PipelineConfig } from '../../cli/pipeline.js';
import { waitFor } from '../../core/retry.js';
import { createKafka } from '../../kafka/client.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { isolatedPipelineConfig } from '../support/env.js';
import { unpublishedCount } from '../support/relay.js';
import { driftOf } from '../support/truth.js';
import { runWorkload } from '../support/workload.js';

const DAYS = 2;

/**
 * `replay --reset-streams`: the stream processor's state is rebuilt from the earliest input (as
 * the Kafka Streams reset tool does) while the API keeps writing; the sink is held from the
 * reset to the swap, across a restart of the process too, so the re-derived records reach only
 * the shadow; after the swap every aggregate equals MySQL and no signed row is there twice.
 */
describe('replay --reset-streams', () => {
  let config: PipelineConfig;
  let cleanup: () => Promise<void>;
  let pipeline: Pipeline;
  let users: string[] = [];
  const db = () => config.clickhouse.database;
  const deps = () => ({ store: mysqlOrderStore(pipeline.pool!), signal: pipeline.relay });

  beforeAll(async () => {
    ({ config, cleanup } = await isolatedPipelineConfig(['api', 'relay', 'streams', 'sink']));
    config = { ...config, canary: { intervalMs: 0 } };
    pipeline = await startPipeline(config);
  });
  afterAll(async () => {
    await pipeline?.stop();
    await cleanup?.();
  });

  async function caughtUp(): Promise<void> {
    await waitFor(async () => ((await unpublishedCount(pipeline.pool!)) === 0 ? true : undefined), { timeoutMs: 60_000, describe: 'the outbox drained' });
    await waitFor(async () => ((await driftOf(pipeline.pool!, pipeline.clickhouse!, db(), users, DAYS)).length === 0 ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 500,
      describe: 'analytics equal to MySQL',
    });
  }
  const count = async (query: string) => Number((await (await pipeline.clickhouse!.query({ query, format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n);
  const changes = () => count(`SELECT count() AS n FROM ${db()}.order_changes`);
  const distinctChanges = () => count(`SELECT count() AS n FROM (SELECT DISTINCT order_id, version, sign FROM ${db()}.order_changes)`);
  async function topicEnd(topic: string): Promise<number> {
    const admin = createKafka(config.kafka).admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    } finally {
      await admin.disconnect();
    }
  }

  it('re-derives every output into the shadow with the sink held (also after a restart), then swaps: drift 0, no signed row twice', async () => {
    users = (await runWorkload(deps(), { operations: 800, seed: 51, days: DAYS, concurrency: 8 })).users;
    await caughtUp();
    const rowsBefore = await changes();
    const derivedBefore = await topicEnd(pipeline.topics.orderChanges);

    // Writes go on during the reset; the live tables stay as they were (the sink is held).
    const writing = runWorkload(deps(), { operations: 300, seed: 52, days: DAYS, concurrency: 4 });
    let opened = await pipeline.openReplay({ maxBatchSize: 500 });
    const loaded = await opened.replay.startWithReset();
    await opened.close();
    expect(loaded).toMatchObject({ state: 'loaded', resetStreams: true });
    users = [...new Set([...users, ...(await writing).users])];
    expect(pipeline.roleStatus().find((r) => r.name === 'sink')?.state).toBe('paused');
    expect(await changes()).toBe(rowsBefore);
    // The streams read their inputs again: the derived topic holds the first derivation and the new one.
    expect(await topicEnd(pipeline.topics.orderChanges)).toBeGreaterThanOrEqual(derivedBefore * 2);

    // A restart of the process keeps the sink held; cleanup is refused until the swap.
    await pipeline.stop();
    pipeline = await startPipeline(config);
    expect(pipeline.roleStatus().find((r) => r.name === 'sink')?.state).toBe('paused');
    opened = await pipeline.openReplay({ maxBatchSize: 500 });
    try {
      await expect(opened.replay.cleanup()).rejects.toThrow(/must be swapped/);
      await waitFor(async () => ((await unpublishedCount(pipeline.pool!)) === 0 ? true : undefined), { timeoutMs: 60_000, describe: 'the outbox drained' });
      const { drift } = await opened.replay.swap((await opened.replay.current())!);
      expect(drift).toEqual([]);
      await expect(opened.replay.rollback((await opened.replay.current())!)).rejects.toThrow(/not rolled back/);
    } finally {
      await opened.close();
    }
    expect(pipeline.roleStatus().find((r) => r.name === 'sink')?.state).toBe('running');

    // The sink goes on on the new tables: the re-derived records are loaded once, and new writes too.
    const more = await runWorkload(deps(), { operations: 200, seed: 53, days: DAYS, concurrency: 4 });
    users = [...new Set([...users, ...more.users])];
    await caughtUp();
    expect(await changes()).toBe(await distinctChanges());
  }, 420_000);
});
