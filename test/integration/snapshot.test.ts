import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline, type PipelineConfig } from '../../cli/pipeline.js';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import { sleep, waitFor } from '../../core/retry.js';
import { createKafka } from '../../kafka/client.js';
import { PAYMENT_METHODS, type OrderStatus } from '../../orders/model.js';
import { cancelOrder, capturePayment, changeOrderStatus, deleteOrder } from '../../orders/order-service.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { mysqlSnapshotStore } from '../../mysql/snapshot-store.js';
import type { SnapshotPreview } from '../../snapshot/snapshot.js';
import { Snapshot } from '../../snapshot/snapshot.js';
import type { SnapshotRun, SnapshotStore } from '../../snapshot/ports.js';
import { PartitionReader } from '../../streams/internal/partition-reader.js';
import { isolatedPipelineConfig } from '../support/env.js';
import { exited, spawnShopstream } from '../support/process.js';
import { unpublishedCount } from '../support/relay.js';
import { driftOf, finalOrders } from '../support/truth.js';
import { runWorkload, seeded } from '../support/workload.js';

const DAYS = 3;

/**
 * `shopstream snapshot`: MySQL rows the pipeline never saw (written with their outbox rows
 * deleted, as if before the pipeline existed or around it) are published as events, and every
 * aggregate then equals MySQL. A second snapshot changes nothing; `--dry-run` changes nothing and
 * plans what the run did; a change committed while a chunk holds its rows lands after the
 * snapshot's event; writes during a snapshot end with drift 0; a snapshot killed with SIGKILL
 * resumes and publishes each row once, as an uninterrupted one would.
 */
describe('snapshot', () => {
  let config: PipelineConfig;
  let cleanup: () => Promise<void>;
  let pipeline: Pipeline;
  const users: string[] = [];
  const db = () => config.clickhouse.database;
  const pool = () => pipeline.pool!;
  const deps = () => ({ store: mysqlOrderStore(pool()), signal: pipeline.relay });
  const env = () => ({ MYSQL_URL: config.mysql.url });

  beforeAll(async () => {
    ({ config, cleanup } = await isolatedPipelineConfig(['relay', 'streams', 'sink']));
    config = { ...config, canary: { intervalMs: 0 } };
    pipeline = await startPipeline(config);
  });
  afterAll(async () => {
    await pipeline?.stop();
    await cleanup?.();
  });

  /** Orders, users, products and stock written through the domain's write path, but with no outbox rows. */
  async function writtenAroundThePipeline(seed: number, operations: number): Promise<void> {
    const store = mysqlOrderStore(pool());
    const around = { ...store, transaction: ((work) => store.transaction((uow) => work({ ...uow, appendEvent: async () => undefined }))) as typeof store.transaction };
    const outbox = await count('SELECT COUNT(*) AS n FROM outbox');
    users.push(...(await runWorkload({ store: around }, { operations, seed, days: DAYS, concurrency: 4 })).users);
    expect(await count('SELECT COUNT(*) AS n FROM outbox')).toBe(outbox);
  }
  const count = async (statement: string, values: unknown[] = []) => Number(((await pool().query(statement, values)) as unknown as [{ n: number }[]])[0][0]!.n);
  const maxOutboxId = () => count('SELECT COALESCE(MAX(id), 0) AS n FROM outbox');

  async function caughtUp(): Promise<void> {
    await waitFor(async () => ((await unpublishedCount(pool())) === 0 ? true : undefined), { timeoutMs: 60_000, describe: 'the outbox drained' });
    await waitFor(async () => ((await driftOf(pool(), pipeline.clickhouse!, db(), users, DAYS)).length === 0 ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 500,
      describe: 'analytics equal to MySQL',
    });
    const final = await finalOrders(pool(), pipeline.clickhouse!, db());
    expect(final.clickhouse).toEqual(final.mysql);
  }

  /** The streams have consumed everything the relay published (the inputs are not transactional). */
  async function streamsCaughtUp(): Promise<void> {
    const admin = createKafka(config.kafka).admin();
    await admin.connect();
    try {
      const inputs = [pipeline.topics.orders, pipeline.topics.payments];
      await waitFor(
        async () => {
          for (const topic of inputs) {
            const ends = await admin.fetchTopicOffsets(topic);
            const [committed] = await admin.fetchOffsets({ groupId: `${config.groupPrefix}-streams`, topics: [topic] });
            for (const end of ends) {
              const at = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
              if (Number(at) < Number(end.high)) return undefined;
            }
          }
          return true;
        },
        { timeoutMs: 60_000, intervalMs: 200, describe: 'the streams consumed their inputs' },
      );
    } finally {
      await admin.disconnect();
    }
  }

  /** Records (not offsets: transaction markers take offsets too) in the signed-changes topic. */
  async function derivedRecords(): Promise<number> {
    const reader = new PartitionReader(config.kafka.brokers, `snapshot-test-${Date.now()}`);
    await reader.connect();
    let n = 0;
    try {
      await reader.readToEnd([0, 1, 2].map((partition) => ({ topic: pipeline.topics.orderChanges, partition })), () => void n++);
    } finally {
      await reader.close();
    }
    return n;
  }

  /** The JSON a `--json` command printed (its last line that is a JSON object; progress goes to stderr). */
  const jsonOf = <T>(output: string): T => JSON.parse(output.split('\n').filter((line) => line.startsWith('{')).at(-1)!) as T;

  async function cli(args: string[]): Promise<{ code: number | null; output: string }> {
    const child = spawnShopstream(['snapshot', ...args], env());
    const code = await exited(child);
    return { code, output: child.output() };
  }

  it('publishes rows the pipeline never saw (drift 0); a second run changes nothing; --dry-run changes nothing and plans what the run did', async () => {
    await writtenAroundThePipeline(601, 600);
    expect(await count('SELECT COUNT(*) AS n FROM outbox')).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM orders')).toBeGreaterThan(100);
    // The control: without a snapshot the analytics miss all of it.
    expect((await driftOf(pool(), pipeline.clickhouse!, db(), users, DAYS)).length).toBeGreaterThan(0);

    const dry = await cli(['--dry-run', '--json']);
    expect(dry.code, dry.output).toBe(0);
    const preview = jsonOf<Extract<SnapshotPreview, { resuming: undefined }>>(dry.output);
    expect(preview.resuming).toBeUndefined();
    expect(await count('SELECT COUNT(*) AS n FROM outbox')).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM snapshot_runs')).toBe(0);

    const real = await cli(['--json']);
    expect(real.code, real.output).toBe(0);
    const run = jsonOf<SnapshotRun>(real.output);
    expect(run.finishedAt).not.toBeNull();
    expect(run.plan).toEqual(preview.plan);
    for (const plan of run.plan.entities) {
      expect(run.progress.find((p) => p.entity === plan.entity), plan.entity).toMatchObject({ rows: plan.rows, events: plan.events, chunks: plan.chunks, done: true });
    }
    expect(await count('SELECT COUNT(*) AS n FROM outbox')).toBe(run.plan.entities.reduce((sum, e) => sum + e.events, 0));
    await caughtUp();

    const derived = await derivedRecords();
    const again = await cli([]);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('finished');
    await waitFor(async () => ((await unpublishedCount(pool())) === 0 ? true : undefined), { timeoutMs: 60_000, describe: 'the outbox drained' });
    await streamsCaughtUp();
    expect(await derivedRecords()).toBe(derived);
    await caughtUp();
  }, 300_000);

  it('orders a change committed while a chunk holds its rows after the snapshot of them', async () => {
    await writtenAroundThePipeline(602, 300);
    const [pending] = (await pool().query("SELECT id FROM orders WHERE status = 'PENDING' AND deleted_at IS NULL ORDER BY id LIMIT 1")) as unknown as [{ id: string }[]];
    const target = pending[0]!.id;
    const from = await maxOutboxId();

    // The order is cancelled while the chunk that read it is still open.
    const store = mysqlSnapshotStore(pool());
    let cancelled: Promise<unknown> | undefined;
    let cancelledAt = 0;
    const held: SnapshotStore = {
      ...store,
      chunk: (runId, entity, limit, toEvents) =>
        store.chunk(runId, entity, limit, async (rows) => {
          const events = await toEvents(rows);
          if (entity === 'orders' && !cancelled && events.some((e) => e.aggregateId === target)) {
            cancelled = cancelOrder(deps(), target, 'changed during the snapshot').then(() => (cancelledAt = Date.now()));
            await sleep(1_000);
          }
          return events;
        }),
    };
    let chunkCommitted = 0; // when the chunk that read the order had committed (progress comes after a commit)
    const onProgress = () => void (cancelled && chunkCommitted === 0 && (chunkCommitted = Date.now()));
    const run = await new Snapshot(held, { chunkSize: 50, onProgress }).run();
    expect(run.finishedAt).not.toBeNull();
    await cancelled;
    // The cancel waited for the chunk's commit, and its event comes after the snapshot's.
    expect(cancelledAt).toBeGreaterThanOrEqual(chunkCommitted);
    const [events] = (await pool().query('SELECT id, event_type, aggregate_version FROM outbox WHERE aggregate_type = ? AND aggregate_id = ? AND id > ? ORDER BY id', ['order', target, from])) as unknown as [
      { id: string; event_type: string; aggregate_version: number }[],
    ];
    expect(events.map((e) => [e.event_type, e.aggregate_version])).toEqual([
      ['OrderSnapshot', 1],
      ['OrderCancelled', 2],
    ]);
    await caughtUp();
  }, 300_000);

  it('ends with drift 0 when the API changes the rows while the snapshot reads them', async () => {
    await writtenAroundThePipeline(603, 600);
    const [rows] = (await pool().query('SELECT id, status, total_amount FROM orders WHERE deleted_at IS NULL')) as unknown as [{ id: string; status: OrderStatus; total_amount: string }[]];
    const random = seeded(603);
    let stop = false;
    let changed = 0;
    const change = async () => {
      while (!stop) {
        await new Promise((resolve) => setImmediate(resolve));
        const order = rows[Math.floor(random() * rows.length)]!;
        const roll = random();
        try {
          if (roll < 0.3 && order.status === 'PENDING') {
            await capturePayment(deps(), { orderId: order.id, method: PAYMENT_METHODS[Math.floor(random() * PAYMENT_METHODS.length)]!, amount: order.total_amount });
            order.status = 'PAID';
          } else if (roll < 0.5 && order.status === 'PAID') {
            await changeOrderStatus(deps(), { orderId: order.id, status: 'SHIPPED' });
            order.status = 'SHIPPED';
          } else if (roll < 0.8 && (order.status === 'PENDING' || order.status === 'PAID')) {
            await cancelOrder(deps(), order.id);
            order.status = 'CANCELLED';
          } else if (roll < 0.85) {
            await deleteOrder(deps(), { orderId: order.id, actor: 'snapshot-test', reason: 'concurrent delete' });
          } else continue;
          changed++;
        } catch (error) {
          if (!(error instanceof ConflictError) && !(error instanceof NotFoundError)) throw error;
        }
      }
    };
    const changers = [change(), change(), change()];
    const writing = runWorkload(deps(), { operations: 300, seed: 604, days: DAYS, concurrency: 3 });
    const run = await new Snapshot(mysqlSnapshotStore(pool()), { chunkSize: 40 }).run();
    users.push(...(await writing).users);
    stop = true;
    await Promise.all(changers);
    expect(run.finishedAt).not.toBeNull();
    expect(changed).toBeGreaterThan(20);
    await caughtUp();
  }, 300_000);

  it('resumes a snapshot killed with SIGKILL and publishes every row once, as an uninterrupted run would', async () => {
    await writtenAroundThePipeline(605, 600);
    const from = await maxOutboxId();
    const child = spawnShopstream(['snapshot', '--chunk-size', '15'], env());
    await waitFor(async () => ((await count("SELECT COALESCE(SUM(chunks), 0) AS n FROM snapshot_progress p JOIN snapshot_runs r ON r.id = p.run_id WHERE r.unfinished = 1 AND p.entity = 'orders'")) >= 3 ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 5,
      describe: 'three chunks of orders committed',
    });
    child.kill('SIGKILL');
    await exited(child);
    const killed = await new Snapshot(mysqlSnapshotStore(pool())).latest();
    expect(killed?.finishedAt).toBeNull();
    expect(killed!.progress.find((p) => p.entity === 'orders')?.done).toBe(false);

    const status = await cli(['status']);
    expect(status.output).toContain('unfinished');
    const refused = await cli(['--only', 'orders']);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('resume');
    const resumed = await cli([]);
    expect(resumed.code, resumed.output).toBe(0);
    expect(resumed.output).toContain(`Resuming snapshot run ${killed!.id}`);

    // One event per row of the plan, no row twice, none left out.
    const run = (await new Snapshot(mysqlSnapshotStore(pool())).latest())!;
    expect(run.id).toBe(killed!.id);
    const orders = run.plan.entities.find((e) => e.entity === 'orders')!;
    const [published] = (await pool().query("SELECT aggregate_id, COUNT(*) AS n FROM outbox WHERE id > ? AND event_type = 'OrderSnapshot' GROUP BY aggregate_id", [from])) as unknown as [{ aggregate_id: string; n: number }[]];
    expect(published.length).toBe(orders.rows);
    expect(published.filter((row) => Number(row.n) !== 1)).toEqual([]);
    for (const plan of run.plan.entities) expect(run.progress.find((p) => p.entity === plan.entity), plan.entity).toMatchObject({ rows: plan.rows, events: plan.events, chunks: plan.chunks });
    await caughtUp();
  }, 300_000);
});
