import { describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.js';
import type { Labels, Metrics } from '../../metrics/metrics.js';
import { FirstRecordCache, partitionLag } from '../../monitoring/lag.js';
import { LagCollector } from '../../monitoring/lag-collector.js';
import { recordKey, type CommittedOffset, type FirstRecordAnswer, type GroupMembership, type LagSource, type PartitionEnd, type RecordRequest } from '../../monitoring/lag-source.js';

/** Gauges and counters by name, each a map from its label set to its value. */
class RecordingMetrics implements Metrics {
  readonly series = new Map<string, Map<string, number>>();
  private of(name: string) {
    return this.series.get(name) ?? this.series.set(name, new Map()).get(name)!;
  }
  counter(spec: { name: string }) {
    return { inc: (labels?: Labels, value = 1) => this.of(spec.name).set(key(labels), (this.of(spec.name).get(key(labels)) ?? 0) + value) };
  }
  gauge(spec: { name: string }) {
    const s = () => this.of(spec.name);
    return {
      set: (value: number, labels?: Labels) => void s().set(key(labels), value),
      inc: () => undefined,
      dec: () => undefined,
      remove: (labels: Labels) => void s().delete(key(labels)),
    };
  }
  histogram(spec: { name: string }) {
    return { observe: () => void this.of(spec.name).set('count', (this.of(spec.name).get('count') ?? 0) + 1) };
  }
  value(name: string, labels?: Labels): number | undefined {
    return this.series.get(name)?.get(key(labels));
  }
  labelSets(name: string): string[] {
    return [...(this.series.get(name)?.keys() ?? [])].sort();
  }
}
const key = (labels?: Labels) => JSON.stringify(Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b)));

/** A broker in memory: per topic and partition the records (offset → timestamp; gaps are markers), the end, the log start. */
class FakeSource implements LagSource {
  committed = new Map<string, CommittedOffset[]>();
  members = new Map<string, number>();
  logs = new Map<string, { records: Map<number, number>; end: number; start: number }[]>();
  reads: RecordRequest[] = [];
  calls: string[] = [];
  failEnds = new Set<string>();
  /** The reader answers nothing in time. */
  silentReader = false;

  async committedOffsets(group: string) {
    this.calls.push(`committed:${group}`);
    return this.committed.get(group) ?? [];
  }
  async partitionEnds(topic: string): Promise<PartitionEnd[] | undefined> {
    this.calls.push(`ends:${topic}`);
    if (this.failEnds.has(topic)) throw new Error('broker unreachable');
    return this.logs.get(topic)?.map((p, partition) => ({ partition, lastStable: BigInt(p.end), logStart: BigInt(p.start) }));
  }
  async membership(groups: string[]) {
    return new Map<string, GroupMembership>(groups.map((g) => [g, { members: this.members.get(g) ?? 0, state: 'Stable' }]));
  }
  async firstRecords(requests: RecordRequest[]) {
    this.reads.push(...requests);
    const answers = new Map<string, FirstRecordAnswer>();
    if (this.silentReader) return answers;
    for (const r of requests) {
      const log = this.logs.get(r.topic)![r.partition]!;
      let answer: FirstRecordAnswer = 'end';
      for (let o = Math.max(Number(r.offset), log.start); o < log.end; o++) {
        const ts = log.records.get(o);
        if (ts !== undefined) {
          answer = { offset: BigInt(o), timestampMs: ts };
          break;
        }
      }
      answers.set(recordKey(r), answer);
    }
    return answers;
  }
  async close() {}

  /** `records` timestamps at offsets 0…n−1 (null: a transaction marker or aborted record). */
  setLog(topic: string, partition: number, records: (number | null)[], start = 0) {
    const logs = this.logs.get(topic) ?? this.logs.set(topic, []).get(topic)!;
    logs[partition] = { records: new Map(records.flatMap((ts, o) => (ts === null ? [] : [[o, ts] as [number, number]]))), end: records.length, start };
  }
  commit(group: string, topic: string, partition: number, offset: number | null) {
    const list = (this.committed.get(group) ?? []).filter((c) => !(c.topic === topic && c.partition === partition));
    list.push({ topic, partition, offset: offset === null ? null : BigInt(offset) });
    this.committed.set(group, list);
  }
}

const silent = createLogger('lag-test', { destination: { write: () => undefined } });

function setup(groups = ['g']) {
  const source = new FakeSource();
  const metrics = new RecordingMetrics();
  let now = 1_000_000;
  const collector = new LagCollector(source, { groups, metrics, logger: silent, now: () => now, windowSamples: 3, stallAfterMs: 10_000, stopAfterMs: 60_000 });
  return { source, metrics, collector, advance: (ms: number) => (now += ms), now: () => now };
}
const labels = (topic: string, partition: number, group = 'g') => ({ group, topic, partition: String(partition) });

describe('lag arithmetic', () => {
  it('is last stable − committed, 0 when caught up or only markers remain, never negative', () => {
    const record = { offset: 4n, timestampMs: 1_000 };
    expect(partitionLag(4n, 10n, record, 11_000)).toEqual({ messages: 6n, seconds: 10 });
    expect(partitionLag(10n, 10n, undefined, 11_000)).toEqual({ messages: 0n, seconds: 0 });
    expect(partitionLag(12n, 10n, undefined, 11_000)).toEqual({ messages: 0n, seconds: 0 }); // committed past the sampled end
    expect(partitionLag(9n, 10n, 'end', 11_000)).toEqual({ messages: 0n, seconds: 0 }); // a marker at 9
    expect(partitionLag(9n, 10n, { offset: 10n, timestampMs: 1 }, 11_000)).toEqual({ messages: 0n, seconds: 0 }); // first record after the sampled end
    expect(partitionLag(4n, 10n, { offset: 4n, timestampMs: 20_000 }, 11_000)).toEqual({ messages: 6n, seconds: 0 }); // clock skew
  });

  it('caches the first record per committed offset, and resumes a scan where the end was', () => {
    const cache = new FirstRecordCache();
    expect(cache.lookup('t', 0, 5n, 5n)).toEqual({ first: 'end' });
    const first = cache.lookup('t', 0, 5n, 7n);
    expect(first).toEqual({ read: { topic: 't', partition: 0, offset: 5n } });
    cache.store(5n, { topic: 't', partition: 0, offset: 5n }, 'end', 7n);
    expect(cache.lookup('t', 0, 5n, 7n)).toEqual({ first: 'end' });
    expect(cache.lookup('t', 0, 5n, 9n)).toEqual({ read: { topic: 't', partition: 0, offset: 7n } });
    cache.store(5n, { topic: 't', partition: 0, offset: 7n }, { offset: 8n, timestampMs: 42 }, 9n);
    expect(cache.lookup('t', 0, 5n, 100n)).toEqual({ first: { offset: 8n, timestampMs: 42 } });
    cache.prune();
    expect(cache.size).toBe(1);
    cache.prune(); // not looked up since: dropped
    expect(cache.size).toBe(0);
  });
});

describe('LagCollector', () => {
  it('exports exact lag per partition and the group maximum', async () => {
    const { source, metrics, collector, now } = setup();
    const t0 = now();
    source.setLog('orders', 0, [t0 - 9_000, t0 - 8_000, t0 - 7_000, t0 - 6_000]);
    source.setLog('orders', 1, [t0 - 5_000, null]); // record, then a transaction marker
    source.commit('g', 'orders', 0, 1);
    source.commit('g', 'orders', 1, 1);
    source.members.set('g', 1);
    const [report] = await collector.collect();
    expect(report!.partitions.map((p) => [p.partition, p.messages, p.seconds])).toEqual([
      [0, 3n, 8],
      [1, 0n, 0],
    ]);
    expect(metrics.value('shopstream_consumergroup_lag', labels('orders', 0))).toBe(3);
    expect(metrics.value('shopstream_consumergroup_lag_seconds', labels('orders', 0))).toBe(8);
    expect(metrics.value('shopstream_consumergroup_lag', labels('orders', 1))).toBe(0);
    expect(metrics.value('shopstream_consumergroup_lag_seconds', labels('orders', 1))).toBe(0);
    expect(metrics.value('shopstream_consumergroup_max_lag_seconds', { group: 'g' })).toBe(8);
    expect(metrics.value('shopstream_consumergroup_status', { group: 'g', status: 'OK' })).toBe(1);
    expect(metrics.value('shopstream_consumergroup_status', { group: 'g', status: 'STALL' })).toBe(0);
    // Group offsets are read before any end offset.
    expect(source.calls).toEqual(['committed:g', 'ends:orders']);
  });

  it('counts a partition without a committed offset from the log start', async () => {
    const { source, collector, now } = setup();
    source.setLog('orders', 0, [1, 2, 3]);
    source.setLog('orders', 1, [null, null, now() - 4_000, now() - 3_000, 5], 2);
    source.commit('g', 'orders', 0, 3);
    source.commit('g', 'orders', 1, null);
    source.members.set('g', 1);
    const [report] = await collector.collect();
    expect(report!.partitions.find((p) => p.partition === 1)).toMatchObject({ committed: 2n, messages: 3n, seconds: 4 });
  });

  it('reads the record of a stuck consumer once, not at every collection', async () => {
    const { source, collector, advance } = setup();
    source.setLog('orders', 0, [1_000, 2_000, 3_000]);
    source.commit('g', 'orders', 0, 1);
    source.members.set('g', 1);
    for (let i = 0; i < 5; i++) {
      advance(1_000);
      await collector.collect();
    }
    expect(source.reads).toHaveLength(1);
  });

  it('goes STALL then STOP for a group that stops committing with lag, and back to OK', async () => {
    const { source, metrics, collector, advance, now } = setup();
    source.setLog('orders', 0, [now(), now(), now()]);
    source.commit('g', 'orders', 0, 1);
    source.members.set('g', 1);
    const status = async () => (await collector.collect())[0]!.status;
    expect(await status()).toBe('OK');
    advance(10_000);
    expect(await status()).toBe('STALL');
    expect(metrics.value('shopstream_consumergroup_status', { group: 'g', status: 'STALL' })).toBe(1);
    expect(metrics.value('shopstream_consumergroup_status', { group: 'g', status: 'OK' })).toBe(0);
    advance(50_000);
    expect(await status()).toBe('STOP');
    source.commit('g', 'orders', 0, 3);
    advance(1_000);
    expect(await status()).toBe('OK');
    // Members gone while lag > 0: STOP at once.
    source.setLog('orders', 0, [now(), now(), now(), now()]);
    source.members.set('g', 0);
    expect(await status()).toBe('STOP');
  });

  it('removes the series of partitions and groups that are gone', async () => {
    const { source, metrics, collector } = setup(['g', 'h']);
    source.setLog('orders', 0, [1]);
    source.setLog('payments', 0, [1]);
    source.commit('g', 'orders', 0, 1);
    source.commit('g', 'payments', 0, 1);
    source.commit('h', 'orders', 0, 1);
    await collector.collect();
    expect(metrics.labelSets('shopstream_consumergroup_lag')).toHaveLength(3);

    source.logs.delete('payments'); // topic deleted
    source.committed.delete('h'); // group deleted (no offsets, no members)
    const reports = await collector.collect();
    expect(reports.map((r) => r.group)).toEqual(['g']);
    expect(metrics.labelSets('shopstream_consumergroup_lag')).toEqual([key(labels('orders', 0))]);
    expect(metrics.labelSets('shopstream_consumergroup_lag_seconds')).toEqual([key(labels('orders', 0))]);
    expect(metrics.labelSets('shopstream_consumergroup_max_lag_seconds')).toEqual([key({ group: 'g' })]);
    expect(metrics.labelSets('shopstream_consumergroup_status')).toHaveLength(4);
  });

  it('keeps a partition\'s last values when its end offsets cannot be read, and counts the error', async () => {
    const { source, metrics, collector, now } = setup();
    source.setLog('orders', 0, [now() - 2_000, 1]);
    source.commit('g', 'orders', 0, 0);
    source.members.set('g', 1);
    await collector.collect();
    source.failEnds.add('orders');
    await collector.collect();
    expect(metrics.value('shopstream_consumergroup_lag', labels('orders', 0))).toBe(2);
    expect(metrics.value('shopstream_lag_collector_errors_total')).toBe(1);
    expect(metrics.series.get('shopstream_lag_collector_scrape_duration_seconds')?.get('count')).toBe(2);
  });

  it('keeps a partition\'s last values when its record is not read in time, and counts the error', async () => {
    const { source, metrics, collector, now, advance } = setup();
    source.setLog('orders', 0, [now() - 2_000, now() - 1_000, 1]);
    source.commit('g', 'orders', 0, 0);
    await collector.collect();
    source.commit('g', 'orders', 0, 1); // a new offset: its record must be read
    source.silentReader = true;
    advance(1_000);
    await collector.collect();
    expect(metrics.value('shopstream_consumergroup_lag', labels('orders', 0))).toBe(3);
    expect(metrics.value('shopstream_consumergroup_lag_seconds', labels('orders', 0))).toBe(2);
    expect(metrics.value('shopstream_lag_collector_errors_total')).toBe(1);
    source.silentReader = false;
    await collector.collect();
    expect(metrics.value('shopstream_consumergroup_lag', labels('orders', 0))).toBe(2);
    expect(metrics.value('shopstream_consumergroup_lag_seconds', labels('orders', 0))).toBe(2);
  });

  it('runs one collection at a time: calls during one share it', async () => {
    const { source, collector } = setup();
    source.setLog('orders', 0, [1]);
    source.commit('g', 'orders', 0, 0);
    const [a, b] = [collector.collect(), collector.collect()];
    expect(a).toBe(b);
    await a;
    expect(source.calls.filter((c) => c.startsWith('committed'))).toHaveLength(1);
  });
});
