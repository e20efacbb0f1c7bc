import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../core/retry.js';
import { createKafka } from '../../kafka/client.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { runningPid } from '../../stack/process.js';
import { kafkaDown, kafkaUp } from '../../stack/kafka.js';
import { resolveStackOptions, type StackOptions } from '../../stack/options.js';
import { startApi, type ApiHarness } from '../support/api.js';
import { freePort } from '../support/process.js';
import { ringLog } from '../support/ring-log.js';
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
    // The producer's idempotence, topic and broker debug lines, kept in memory and printed only
    // if the outbox does not drain (a full-suite run once saw every send time out for the two
    // minutes after the last pause).
    const clientLog = ringLog(4_000);
    const { relay, close } = testRelay(api.pool, t, { errorBackoffMs: 250, concurrency: 4 }, kafka, { debug: 'eos,topic,broker,protocol', log: clientLog.logger });
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
      await waitFor(async () => ((await unpublishedCount(api.pool)) === 0 ? true : undefined), { timeoutMs: 120_000, intervalMs: 250, describe: 'the outbox drained' }).catch(async (error) => {
        console.log(await stallReport(batches, clientLog.lines()));
        throw error;
      });
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

  /** What the producer, the broker and the relay's last batches were doing when the outbox did not drain. */
  async function stallReport(batches: string[], clientLines: string[]): Promise<string> {
    const quiet = /"fac":"(SEND|RECV|MSGSET|PRODUCE|WAKEUP|TOPPAR)"/;
    // A partition's queue state repeats every scan: its distinct lines, the latest of each.
    const queues = new Map(clientLines.filter((line) => line.includes('"fac":"TOPPAR"')).map((line) => [line.replace(/^\S+ /, '').replace(/"timestamp":\d+/, ''), line]));
    const admin = createKafka(kafka).admin();
    let leaders: string;
    try {
      await admin.connect();
      const metadata = await admin.fetchTopicMetadata({ topics: Object.values(t.topics), timeout: 5_000 });
      leaders = metadata.map((topic) => `${topic.name}: ${topic.partitions.map((p) => `${p.partitionId}→${p.leader}`).join(' ')}`).join('\n');
    } catch (error) {
      leaders = `metadata: ${(error as Error).message}`;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const brokerLog = readFileSync(join(stack.dir, 'logs', 'kafka.log'), 'utf8').split('\n').filter((line) => !line.startsWith('\t') && /WARN|ERROR|fenc|session/i.test(line));
    return [
      `unpublished: ${await unpublishedCount(api.pool)}`,
      `partition leaders:\n${leaders}`,
      `broker log (warnings, errors, fencing; last 60):\n${brokerLog.slice(-60).join('\n')}`,
      `last batches:\n${batches.slice(-12).map((b) => b.slice(0, 200)).join('\n')}`,
      `producer queues (latest 30 distinct):\n${[...queues.values()].slice(-30).join('\n')}`,
      `producer (last 300 lines but sends, receives and queues):\n${clientLines.filter((line) => !quiet.test(line)).slice(-300).join('\n')}`,
    ].join('\n\n');
  }
});
