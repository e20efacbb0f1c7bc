import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../../cli/config.js';
import { ConfigError } from '../../core/errors.js';
import { heartbeatIdFor, murmur2, partitionOf } from '../../canary/model.js';
import type { CanaryArrivals, Heartbeat, HeartbeatLog } from '../../canary/ports.js';
import { CanaryWatcher } from '../../canary/watcher.js';
import { PrometheusMetrics } from '../../metrics/prometheus.js';

describe('canary keys', () => {
  it('hash like Kafka (Utils.murmur2)', () => {
    // Kafka's own values for these keys.
    const cases: [string, number][] = [['1', -1993445489], ['12', 126087238], ['123', -267702483], ['1234', -1614185708], ['12345', -1188365604]];
    for (const [key, hash] of cases) expect(murmur2(Buffer.from(key)), key).toBe(hash);
  });

  it('rotate over the partitions: an id for each partition hashes to it', () => {
    for (const partitions of [1, 3, 6]) {
      for (let p = 0; p < partitions; p++) expect(partitionOf(heartbeatIdFor(p, partitions, randomUUID), partitions)).toBe(p);
    }
    expect(() => heartbeatIdFor(3, 3, randomUUID)).toThrow(RangeError);
  });
});

describe('canary configuration', () => {
  it('reads the interval (0: off), the loss deadline and the readiness limit, and refuses a spinning interval', () => {
    expect(configFromEnv({}).canary).toEqual({});
    expect(configFromEnv({ CANARY_INTERVAL_MS: '0' }).canary).toEqual({ intervalMs: 0 });
    expect(configFromEnv({ CANARY_INTERVAL_MS: '2000', CANARY_LOST_AFTER_MS: '30000', CANARY_STALE_AFTER_MS: '20000' }).canary).toEqual({
      intervalMs: 2_000,
      lostAfterMs: 30_000,
      staleAfterMs: 20_000,
    });
    expect(() => configFromEnv({ CANARY_INTERVAL_MS: '10' })).toThrow(ConfigError);
    expect(() => configFromEnv({ CANARY_LOST_AFTER_MS: '5' })).toThrow(/CANARY_LOST_AFTER_MS/);
  });
});

/** The watcher's bookkeeping on a clock of the test's: what arrived, what was emitted, what is lost. */
describe('CanaryWatcher', () => {
  function setup(options: { lostAfterMs?: number; staleAfterMs?: number } = {}) {
    let now = 1_800_000_000_000;
    const emitted: Heartbeat[] = [];
    const arrived: Heartbeat[] = [];
    const log: HeartbeatLog = { append: async () => undefined, emittedSince: async (since) => emitted.filter((h) => h.emittedAt >= since), purge: async () => 0 };
    const arrivals: CanaryArrivals = { arrivedSince: async (since) => arrived.filter((h) => h.emittedAt >= since) };
    const metrics = new PrometheusMetrics();
    const watcher = new CanaryWatcher(arrivals, log, { intervalMs: 1_000, lostAfterMs: 10_000, emittedPollMs: 0, now: () => now, metrics, ...options });
    const emit = (id: string) => {
      const heartbeat = { id, emittedAt: now * 1000 };
      emitted.push(heartbeat);
      return heartbeat;
    };
    const value = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await metrics.render())?.[1]);
    return { watcher, emit, arrive: (h: Heartbeat) => arrived.push(h), advance: (ms: number) => (now += ms), value, metrics };
  }

  it('times each heartbeat once, from its emit time to its first sighting, and not those there before it started', async () => {
    const t = setup();
    t.arrive(t.emit('before'));
    await t.watcher.poll();
    expect(await t.value('shopstream_canary_round_trip_seconds_count')).toBe(0);
    const a = t.emit('a');
    t.advance(700);
    await t.watcher.poll();
    t.arrive(a);
    t.advance(50);
    await t.watcher.poll();
    await t.watcher.poll();
    expect(await t.value('shopstream_canary_round_trip_seconds_count')).toBe(1);
    expect(await t.value('shopstream_canary_round_trip_seconds_sum')).toBeCloseTo(0.75, 6);
    expect(await t.value('shopstream_canary_age_seconds')).toBeCloseTo(0.75, 6);
    t.advance(2_000);
    expect(await t.value('shopstream_canary_age_seconds')).toBeCloseTo(2.75, 6);
    expect(await t.value('shopstream_canary_lost_total')).toBe(0);
  });

  it('counts a heartbeat lost once past its deadline, times it if it turns up, and ignores one that arrived in time', async () => {
    const t = setup();
    await t.watcher.poll();
    const late = t.emit('late');
    const onTime = t.emit('on-time');
    t.advance(9_000);
    t.arrive(onTime);
    await t.watcher.poll();
    expect(await t.value('shopstream_canary_lost_total')).toBe(0);
    t.advance(1_500);
    await t.watcher.poll();
    await t.watcher.poll();
    expect(await t.value('shopstream_canary_lost_total')).toBe(1);
    t.arrive(late);
    await t.watcher.poll();
    expect(await t.value('shopstream_canary_lost_total')).toBe(1);
    expect(await t.value('shopstream_canary_round_trip_seconds_count')).toBe(2);
    expect(await t.value('shopstream_canary_round_trip_seconds_sum')).toBeCloseTo(9 + 10.5, 6);
  });

  it('is ready while the newest heartbeat seen is recent enough; before the first, for that long after it started', async () => {
    const t = setup({ staleAfterMs: 5_000 });
    const ready = t.watcher.readiness();
    expect(await ready()).toEqual({ name: 'canary', ok: true });
    t.advance(5_001);
    expect(await ready()).toMatchObject({ name: 'canary', ok: false, detail: expect.stringMatching(/no canary heartbeat in ClickHouse for 5\.0 s \(limit 5 s\)/) });
    expect(await t.value('shopstream_canary_age_seconds')).toBeCloseTo(5.001, 6);
    t.arrive(t.emit('x'));
    await t.watcher.poll();
    expect(await ready()).toEqual({ name: 'canary', ok: true });
    expect(await t.value('shopstream_canary_last_seen_timestamp_seconds')).toBeGreaterThan(1_800_000_000);
    t.advance(6_000);
    expect(await ready()).toMatchObject({ ok: false, detail: expect.stringMatching(/emitted 6\.0 s ago/) });
  });

  it('defaults the readiness limit to 3 intervals and 10 s', async () => {
    const t = setup({ staleAfterMs: undefined });
    t.advance(13_000);
    expect((await t.watcher.readiness()()).ok).toBe(true);
    t.advance(1);
    expect((await t.watcher.readiness()()).ok).toBe(false);
  });
});
