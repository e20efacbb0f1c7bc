import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../core/retry.js';
import { createKafka } from '../../kafka/client.js';
import { FirstRecordReader } from '../../kafka/first-record-reader.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { useIsolatedPipeline } from '../support/pipeline.js';
import { startTestPrometheus, type TestPrometheus } from '../support/prometheus.js';
import { runWorkload } from '../support/workload.js';

const MONITOR_INTERVAL_MS = 500;

/**
 * Lag monitoring on a running pipeline, read through a real Prometheus that scrapes it every
 * second and evaluates the project's rules: lag seconds against the ground truth under load, the
 * sink stopped (lag grows ~1 s/s, STALL/STOP, ShopstreamConsumerGroupStalled fires within its
 * `for`, clears on restart), and the streams stopped (ShopstreamCanarySlow fires, clears).
 */
describe('lag monitoring and its alerts in a running Prometheus', () => {
  const harness = useIsolatedPipeline(['api', 'relay', 'streams', 'sink', 'monitor'], {
    monitor: { intervalMs: MONITOR_INTERVAL_MS },
    canary: { intervalMs: 500, lostAfterMs: 4_000, pollMs: 250 },
  });
  let prometheus: TestPrometheus;
  const sinkGroup = () => `${harness.config.groupPrefix}-sink`;
  const deps = () => ({ store: mysqlOrderStore(harness.pipeline.pool!), signal: harness.pipeline.relay });

  beforeAll(async () => {
    prometheus = await startTestPrometheus([new URL(harness.pipeline.url!).host]);
  }, 90_000);
  afterAll(async () => {
    await prometheus?.stop();
  });

  /** The collector's series of the pipeline's own /metrics: name{labels} → value. */
  async function scrape(): Promise<Map<string, number>> {
    const text = await (await fetch(`${harness.pipeline.url}/metrics`)).text();
    return new Map(
      text
        .split('\n')
        .filter((line) => line.startsWith('shopstream_consumergroup_'))
        .map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))] as [string, number]),
    );
  }

  async function alertState(name: string): Promise<string | undefined> {
    const { alerts } = await prometheus.get<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts');
    const found = alerts.filter((a) => a.labels.alertname === name);
    return found.some((a) => a.state === 'firing') ? 'firing' : found[0]?.state;
  }

  it('under steady load, lag seconds are within max(1 s, 5 %) of the ground truth at every sample, and messages never negative', async () => {
    const admin = createKafka(harness.config.kafka).admin();
    await admin.connect();
    const reader = new FirstRecordReader({ brokers: harness.config.kafka.brokers, clientId: 'lag-truth', timeoutMs: 5_000 });
    await reader.connect();
    const workload = runWorkload(deps(), { operations: 1_500, seed: 61, days: 1, concurrency: 2 });
    const off: string[] = [];
    let samples = 0;
    try {
      // The truth for each partition of the sink's group: now − the record at its committed offset.
      const truth = async () => {
        const committed = await admin.fetchOffsets({ groupId: sinkGroup() });
        const requests = committed.flatMap(({ topic, partitions }) => partitions.filter((p) => Number(p.offset) >= 0).map((p) => ({ topic, partition: p.partition, offset: BigInt(p.offset) })));
        const answers = await reader.read(requests);
        const at = Date.now();
        return new Map(
          requests.flatMap((r) => {
            const answer = answers.get(`${r.topic}:${r.partition}:${r.offset}`);
            return answer === undefined ? [] : [[`${r.topic}[${r.partition}]`, { seconds: answer === 'end' ? 0 : (at - answer.timestampMs) / 1000, at }] as const];
          }),
        );
      };
      const collections = async () => {
        const text = await (await fetch(`${harness.pipeline.url}/metrics`)).text();
        return Number(/^shopstream_lag_collector_scrape_duration_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
      };
      for (let i = 0; i < 20; i++) {
        // Truth before and after a collection made in between: the collector's value is the truth
        // at its own moment, which lies between the two (a commit may land in between).
        const before = await truth();
        const counted = await collections();
        await waitFor(async () => ((await collections()) > counted ? true : undefined), { timeoutMs: 10_000, intervalMs: 50, describe: 'a collection' });
        const metrics = await scrape();
        const after = await truth();
        for (const [series, value] of metrics) if (series.startsWith('shopstream_consumergroup_lag{') && value < 0) off.push(`${series} = ${value}`);
        for (const [key, end] of after) {
          const start = before.get(key);
          const [, topic, partition] = /^(.*)\[(\d+)\]$/.exec(key)!;
          const reported = metrics.get(`shopstream_consumergroup_lag_seconds{group="${sinkGroup()}",topic="${topic}",partition="${partition}"}`);
          if (reported === undefined || start === undefined) continue;
          samples++;
          // Seconds grow with the clock while the offset stays: the start's truth, aged to the end.
          const low = Math.min(start.seconds, end.seconds);
          const high = Math.max(start.seconds + (end.at - start.at) / 1000, end.seconds);
          const tolerance = Math.max(1, high * 0.05);
          if (reported < low - tolerance || reported > high + tolerance) off.push(`${key}: reported ${reported} s, truth between ${low.toFixed(3)} and ${high.toFixed(3)} s`);
        }
      }
    } finally {
      await workload;
      await reader.close();
      await admin.disconnect();
    }
    expect(samples).toBeGreaterThan(10);
    expect(off).toEqual([]);
  }, 120_000);

  it('the sink stopped: lag seconds grow about 1 s per second, STALL/STOP, the stalled alert fires within its `for`; restarted, it clears', async () => {
    await prometheus.waitForSeries(`shopstream_consumergroup_max_lag_seconds{group="${sinkGroup()}"}`);
    expect(await alertState('ShopstreamConsumerGroupStalled')).toBeUndefined();
    const maxLag = async () => Number((await prometheus.query(`shopstream_consumergroup_max_lag_seconds{group="${sinkGroup()}"}`))[0]?.value[1] ?? 'NaN');
    await harness.pipeline.pauseRole('sink');
    const pausedAt = Date.now();
    try {
      // Canary heartbeats keep arriving on the sink's topic every 500 ms, so it falls behind.
      const first = await waitFor(async () => {
        const lag = await maxLag();
        return lag >= 3 ? { lag, at: Date.now() } : undefined;
      }, { timeoutMs: 30_000, intervalMs: 500, describe: 'the sink group behind' });
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const second = { lag: await maxLag(), at: Date.now() };
      const slope = (second.lag - first.lag) / ((second.at - first.at) / 1000);
      expect(slope).toBeGreaterThan(0.7);
      expect(slope).toBeLessThan(1.3);
      const status = await prometheus.waitForSeries(`shopstream_consumergroup_status{group="${sinkGroup()}", status=~"STALL|STOP"} == 1`);
      expect(status.length).toBe(1);
      await waitFor(async () => ((await alertState('ShopstreamConsumerGroupStalled')) === 'firing' ? true : undefined), {
        timeoutMs: 110_000,
        intervalMs: 1_000,
        describe: 'ShopstreamConsumerGroupStalled firing',
      });
      // `for: 1m` after the status changed, plus scrape and evaluation intervals.
      expect(Date.now() - pausedAt).toBeGreaterThanOrEqual(60_000);
    } finally {
      await harness.pipeline.resumeRole('sink');
    }
    await waitFor(async () => ((await alertState('ShopstreamConsumerGroupStalled')) === undefined ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 1_000,
      describe: 'ShopstreamConsumerGroupStalled cleared',
    });
    expect(Number((await prometheus.query(`shopstream_consumergroup_status{group="${sinkGroup()}", status="OK"}`))[0]?.value[1])).toBe(1);
  }, 240_000);

  it('the streams stopped: the canary alert fires; resumed, it clears', async () => {
    await waitFor(async () => ((await alertState('ShopstreamCanarySlow')) === undefined ? true : undefined), { timeoutMs: 90_000, intervalMs: 1_000, describe: 'no canary alert to begin with' });
    await harness.pipeline.pauseRole('streams');
    try {
      await waitFor(async () => ((await alertState('ShopstreamCanarySlow')) === 'firing' ? true : undefined), {
        timeoutMs: 150_000,
        intervalMs: 1_000,
        describe: 'ShopstreamCanarySlow firing',
      });
      expect(await alertState('ShopstreamCanaryLost')).toBe('firing');
    } finally {
      await harness.pipeline.resumeRole('streams');
    }
    await waitFor(async () => ((await alertState('ShopstreamCanarySlow')) === undefined ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 1_000,
      describe: 'ShopstreamCanarySlow cleared',
    });
  }, 300_000);
});
