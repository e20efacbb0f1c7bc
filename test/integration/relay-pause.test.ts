import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../core/retry.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { runningPid } from '../../stack/process.js';
import { kafkaDown, kafkaUp } from '../../stack/kafka.js';
import { resolveStackOptions, type StackOptions } from '../../stack/options.js';
import { startApi, type ApiHarness } from '../support/api.js';
import { freePort } from '../support/process.js';
import { firstCopies, readTopic, testRelay, testTopics, unpublishedCount, versionsByKey, type TestTopics } from '../support/relay.js';
import { runWorkload } from '../support/workload.js';

/**
 * Four claim loops while writers commit the next versions of the aggregates being claimed, and
 * the broker stalls (SIGSTOP) now and then, so claims hold their rows for seconds: a claim must
 * never take an event whose earlier version another claim holds (one locking statement with
 * SKIP LOCKED skipped those rows in its head probe too, and published later versions first).
 * Afterwards every aggregate's events are in Kafka in version order (the first copy of each:
 * a batch is sent again when its publish timed out).
 */
describe('relay through a stalled broker', () => {
  let stack: StackOptions;
  let api: ApiHarness;
  let t: TestTopics;
  let kafka: { brokers: string[]; clientId: string };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shopstream-kafka-'));
    stack = resolveStackOptions({ dir, kafkaBroker: `127.0.0.1:${await freePort()}`, kafkaControllerPort: await freePort(), kafkaHeapMb: 384, say: () => undefined });
    await kafkaUp(stack);
    kafka = { brokers: [stack.kafkaBroker], clientId: 'relay-pause-test' };
    t = await testTopics(kafka, 3);
    api = await startApi();
  }, 240_000);

  afterAll(async () => {
    await api?.close();
    if (stack) {
      const pid = runningPid({ pidFile: join(stack.dir, 'run', 'kafka.pid'), logFile: '', marker: stack.dir });
      if (pid) process.kill(pid, 'SIGCONT');
      await kafkaDown(stack);
      rmSync(stack.dir, { recursive: true, force: true });
    }
  });

  it('publishes every aggregate in version order', async () => {
    const pid = runningPid({ pidFile: join(stack.dir, 'run', 'kafka.pid'), logFile: '', marker: stack.dir })!;
    const { relay, close } = testRelay(api.pool, t, { errorBackoffMs: 250, concurrency: 4 }, kafka);
    const batches: string[] = [];
    const publish = relay['publisher'].publish.bind(relay['publisher']);
    relay['publisher'].publish = async (rows: Parameters<typeof publish>[0]) => {
      const started = new Date().toISOString();
      try {
        return await publish(rows);
      } finally {
        batches.push(`${started}..${new Date().toISOString()} ${rows.map((r) => `${r.id}:${r.aggregateType[0]}${r.aggregateId.slice(0, 6)}v${r.aggregateVersion}`).join(' ')}`);
      }
    };
    relay.start();
    const deps = { store: mysqlOrderStore(api.pool), signal: relay };
    try {
      const pauses = (async () => {
        for (let i = 0; i < 3; i++) {
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          process.kill(pid, 'SIGSTOP');
          await new Promise((resolve) => setTimeout(resolve, 6_000 + i * 3_000));
          process.kill(pid, 'SIGCONT');
        }
      })();
      let round = 0;
      let stopped = false;
      void pauses.then(() => (stopped = true));
      while (!stopped) await runWorkload(deps, { operations: 300, seed: 7 + round++, days: 2, concurrency: 12 });
      await waitFor(async () => ((await unpublishedCount(api.pool)) === 0 ? true : undefined), { timeoutMs: 120_000, intervalMs: 250, describe: 'the outbox drained' });
      const [expected] = (await api.pool.query("SELECT COUNT(*) AS n FROM outbox WHERE aggregate_type = 'order'")) as unknown as [[{ n: number }]];
      const records = await readTopic(t.topics.orders, t.registry, (r) => new Set(r.map((x) => x.eventId)).size >= Number(expected[0]!.n), { kafka, timeoutMs: 60_000 });
      // A batch whose publish timed out after it reached the broker is sent again (its repeats
      // carry the same event_id and are dropped downstream): the first copy of each event counts.
      const firsts = firstCopies(records);
      const outOfOrder = [...versionsByKey(firsts)].filter(([, versions]) => versions.some((v, i) => v !== i + 1));
      if (outOfOrder.length > 0) {
        const ids = outOfOrder.slice(0, 3).map(([key]) => key.slice(0, 6));
        console.log(JSON.stringify(outOfOrder.slice(0, 3)));
        for (const b of batches) if (ids.some((id) => b.includes(id))) console.log('batch', b.split(' ').filter((x, i) => i === 0 || ids.some((id) => x.includes(id))).join(' '));
      }
      expect(outOfOrder.slice(0, 3)).toEqual([]);
    } finally {
      await close();
    }
  }, 300_000);
});
