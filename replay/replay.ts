import { randomBytes } from 'node:crypto';
import type { AnalyticsReader } from '../analytics/read-model.js';
import { ConflictError, ShopstreamError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { sleep } from '../core/retry.js';
import type { SwapGate } from '../core/swap-gate.js';
import type { Drift } from '../reconcile/reconcile.js';
import { writeTable, type LoadedTable } from '../sink/clickhouse-sink.js';
import type { AnalyticsWriter, RangeLedger } from '../sink/ports.js';
import { exchangedTables, expectedRecords, holdsSink, parseManifest, serializeManifest, TABLE_GROUPS, type ReplayManifest } from './manifest.js';
import type { LiveSink, LiveStreams, ManifestStore, PartitionRange, RangeSource, ShadowTables, SourceRecord } from './ports.js';

export interface ReplayOptions {
  /** Most records per insert (and per recorded range). Default 20,000, as the sink. */
  maxBatchSize: number;
  /** How long `swap` looks for a moment the shadow equals MySQL. Default 60,000 ms. */
  verifyTimeoutMs: number;
  /** Called as records are loaded (phase: load, catch-up). Default: nothing. */
  onProgress: (progress: { phase: string; loaded: bigint; total: bigint }) => void;
  logger: Logger;
}

export const DEFAULT_REPLAY_OPTIONS: ReplayOptions = {
  maxBatchSize: 20_000,
  verifyTimeoutMs: 60_000,
  onProgress: () => undefined,
  logger: createLogger('replay'),
};

/** What a replay works with; `live` only in the process that runs the sink (and the API's reads). */
export interface ReplayDeps {
  source: RangeSource;
  shadows: ShadowTables & ManifestStore;
  decode: (value: Buffer) => Promise<Record<string, unknown>>;
  /** The writer and ledger of a database (the live one or a shadow). */
  writerFor: (database: string) => AnalyticsWriter & RangeLedger;
  analyticsFor: (database: string) => AnalyticsReader;
  /** Compares an analytics database with MySQL (the reconcile comparison). */
  verify: (analytics: AnalyticsReader) => Promise<Drift[]>;
  /** The live database; the shadow is `<database>_replay`. */
  database: string;
  /** topic → loaded table, for every topic the sink loads. */
  loaded: Record<string, LoadedTable>;
  /** The sink of this process and the gate of its analytics reads. */
  live?: { sink: LiveSink; gate: SwapGate; streams?: LiveStreams };
  /** Whether a sink outside this process is loading the live tables now (members in its group). */
  foreignSinkRunning: () => Promise<boolean>;
}

export interface ReplayRequest {
  /** Loaded tables to rebuild (default: all). */
  tables?: LoadedTable[];
  /** Only records at or after this time (epoch ms), through offsets-for-times. */
  fromMs?: number;
  /** Only records before this time (epoch ms). */
  toMs?: number;
  /** Explicit ranges per partition ("topic:partition" → [from, to)), over the frozen defaults. */
  offsets?: Map<string, { from?: bigint; to?: bigint }>;
}

/** The tables every compared aggregate comes from: a replay without them is not compared with MySQL. */
const VERIFIED: LoadedTable[] = ['orders', 'order_changes'];

export class ReplayError extends ShopstreamError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/**
 * Rebuilds analytics tables from Kafka into a shadow database and swaps them in while the live
 * pipeline keeps loading.
 *
 * Contract:
 * - The range is frozen in a manifest (kept in the shadow) before anything is loaded; a replay
 *   reads with its own assigned consumer, never moving the live groups' offsets.
 * - Loading is the sink's: a range is recorded in the shadow's ledger before its insert, the
 *   insert carries the token `<topic>-<partition>-<first>-<last>`, and a resumed replay loads
 *   the latest recorded range again exactly (ClickHouse drops what had landed) before going on.
 *   Killed anywhere, a replay resumed ends with the tables an uninterrupted one ends with.
 * - `swap` catches the shadow up to the current last stable offsets, verifies it against MySQL
 *   (refusing on drift unless forced), pauses the live sink, catches up again, and exchanges
 *   each table of the groups and the ledger with its shadow under the analytics read gate: a
 *   reader sees every table before or every table after. The ledger goes with its tables, so
 *   the resumed sink goes on from where the new tables stand (re-loading their latest range
 *   under its token is a no-op): nothing between the replay's end and the swap is lost or
 *   counted twice.
 * - The replaced tables stay in the shadow for `rollback` (the same catch-up and exchange, the
 *   other way) until `cleanup` drops them.
 */
export class Replay {
  private readonly options: ReplayOptions;
  private readonly shadow: string;

  constructor(
    private readonly deps: ReplayDeps,
    options: Partial<ReplayOptions> = {},
  ) {
    this.options = { ...DEFAULT_REPLAY_OPTIONS, ...options };
    this.shadow = `${deps.database}_replay`;
  }

  async current(): Promise<ReplayManifest | undefined> {
    const text = await this.deps.shadows.load(this.shadow);
    return text === undefined ? undefined : parseManifest(text);
  }

  /** The manifest a new replay would freeze now; changes nothing. */
  async plan(request: ReplayRequest = {}): Promise<ReplayManifest> {
    const tables = request.tables ?? (['orders', 'order_changes', 'products', 'pipeline_canary'] as LoadedTable[]);
    const topics = Object.fromEntries(Object.entries(this.deps.loaded).filter(([, table]) => tables.includes(table)));
    const ranges: PartitionRange[] = [];
    for (const topic of Object.keys(topics)) {
      const ends = await this.deps.source.ends(topic);
      const starts = request.fromMs === undefined ? undefined : await this.deps.source.offsetsForTime(topic, request.fromMs);
      const stops = request.toMs === undefined ? undefined : await this.deps.source.offsetsForTime(topic, request.toMs);
      for (const end of ends) {
        const explicit = request.offsets?.get(`${topic}:${end.partition}`);
        const atTime = (offsets: Map<number, bigint> | undefined) => offsets?.get(end.partition);
        let from = explicit?.from ?? atTime(starts) ?? end.logStart;
        let to = explicit?.to ?? atTime(stops) ?? end.lastStable;
        if (from < end.logStart) from = end.logStart;
        if (to > end.lastStable) to = end.lastStable;
        if (from > to) from = to;
        ranges.push({ topic, partition: end.partition, from, to });
      }
    }
    return { id: randomBytes(4).toString('hex'), shadow: this.shadow, plannedAt: new Date().toISOString(), tables, topics, ranges, state: 'loading' };
  }

  /** Freezes `manifest` and loads it into a new shadow; refused while another replay's shadow exists. */
  async start(manifest: ReplayManifest): Promise<ReplayManifest> {
    if (await this.current()) throw new ConflictError('REPLAY_EXISTS', `a replay exists (${this.shadow}): resume it, roll it back or run \`replay cleanup\` first`);
    await this.deps.shadows.create(this.shadow);
    await this.save(manifest);
    return this.load(manifest);
  }

  /**
   * A replay with --reset-streams: holds the live sink, freezes the plan, then resets the stream
   * processor (see `reset`) and loads. Runs only where the streams and the sink run.
   */
  async startWithReset(request: ReplayRequest = {}): Promise<ReplayManifest> {
    if (!this.deps.live?.streams) throw new ReplayError('REPLAY_RESET_NEEDS_STREAMS', '--reset-streams runs in the process that runs the streams, the sink and the api roles');
    if (await this.current()) throw new ConflictError('REPLAY_EXISTS', `a replay exists (${this.shadow}): resume it, roll it back or run \`replay cleanup\` first`);
    const planned = await this.plan({ ...request, tables: undefined });
    await this.deps.live.sink.pause();
    await this.deps.shadows.create(this.shadow);
    const manifest: ReplayManifest = { ...planned, state: 'resetting', resetStreams: true };
    await this.save(manifest);
    return this.load(await this.reset(manifest));
  }

  /**
   * Resets the stream processor and waits until it re-derived everything its inputs held at the
   * reset: the output topics' ranges become [their end at the reset, their end then). Run again
   * after a crash, it starts over from a new end (the sink was held all along, so nothing
   * derived after the first reset was loaded anywhere but into the shadow, which is emptied of
   * nothing: its output ranges are only set here).
   */
  async reset(manifest: ReplayManifest): Promise<ReplayManifest> {
    if (manifest.state !== 'resetting') return manifest;
    const streams = this.deps.live?.streams;
    if (!streams) throw new ReplayError('REPLAY_RESET_NEEDS_STREAMS', '--reset-streams runs in the process that runs the streams, the sink and the api roles');
    await this.deps.live!.sink.pause();
    await streams.pause();
    const outputs = streams.outputTopics.filter((topic) => manifest.topics[topic]);
    const endsOf = async (topics: readonly string[]) => new Map((await Promise.all(topics.map(async (topic) => (await this.deps.source.ends(topic)).map((e) => [`${topic}:${e.partition}`, e.lastStable] as const)))).flat());
    const from = await endsOf(outputs);
    const inputs = await endsOf(streams.inputTopics);
    try {
      await streams.reset();
    } finally {
      await streams.resume();
    }
    const total = [...inputs.values()].reduce((sum, n) => sum + n, 0n);
    for (;;) {
      const committed = await streams.committed();
      const position = (key: string) => {
        const offset = committed.get(key) ?? 0n;
        return offset > 0n ? offset : 0n;
      };
      const behind = [...inputs].filter(([key, end]) => position(key) < end);
      const done = total - behind.reduce((sum, [key, end]) => sum + end - position(key), 0n);
      this.options.onProgress({ phase: 'reprocess', loaded: done, total });
      if (behind.length === 0) break;
      await sleep(500);
    }
    const to = await endsOf(outputs);
    const ranges = manifest.ranges.map((r) => (outputs.includes(r.topic) ? { ...r, from: from.get(`${r.topic}:${r.partition}`) ?? r.from, to: to.get(`${r.topic}:${r.partition}`) ?? r.to } : r));
    const reset: ReplayManifest = { ...manifest, ranges, state: 'loading' };
    await this.save(reset);
    return reset;
  }

  /** Loads what the manifest holds and is not loaded yet (after a crash: where it stopped). */
  async load(manifest: ReplayManifest): Promise<ReplayManifest> {
    if (manifest.state === 'resetting') manifest = await this.reset(manifest);
    if (manifest.state !== 'loading') return manifest;
    const shadow = this.deps.writerFor(this.shadow);
    const total = expectedRecords(manifest);
    let loaded = 0n;
    for (const range of manifest.ranges) {
      loaded += await this.loadRange(shadow, manifest.topics[range.topic]!, range, (n) => this.options.onProgress({ phase: 'load', loaded: loaded + n, total }));
      this.options.onProgress({ phase: 'load', loaded, total });
    }
    const done = { ...manifest, state: 'loaded' as const };
    await this.save(done);
    return done;
  }

  /**
   * Verifies the shadow and swaps it in (see the class contract). `force` swaps despite drift.
   * Returns the drift found by the last verification.
   */
  async swap(manifest: ReplayManifest, { force = false }: { force?: boolean } = {}): Promise<{ manifest: ReplayManifest; drift: Drift[] }> {
    if (manifest.state !== 'loaded') throw new ConflictError('REPLAY_NOT_LOADED', `the replay is ${manifest.state}; only a loaded replay is swapped`);
    await this.assertSwappable();
    const drift = VERIFIED.every((table) => manifest.tables.includes(table)) ? await this.verified(manifest) : [];
    if (drift.length > 0 && !force) {
      throw new ReplayError('REPLAY_DRIFT', `the shadow differs from MySQL in ${drift.length} keys (first: ${drift[0]!.aggregate} ${drift[0]!.key}); not swapped (--force swaps anyway)`);
    }
    await this.exchange(manifest, this.shadow);
    const swapped = { ...manifest, state: 'swapped' as const, swappedAt: new Date().toISOString() };
    await this.save(swapped);
    return { manifest: swapped, drift };
  }

  /** Puts the replaced tables back, caught up with everything loaded since the swap. */
  async rollback(manifest: ReplayManifest): Promise<ReplayManifest> {
    if (manifest.state !== 'swapped') throw new ConflictError('REPLAY_NOT_SWAPPED', `the replay is ${manifest.state}; only a swapped replay is rolled back`);
    if (manifest.resetStreams) throw new ConflictError('REPLAY_RESET_FINAL', 'a --reset-streams replay is not rolled back: the topics hold the re-derived records now, which the replaced tables do not match');
    await this.assertSwappable();
    await this.exchange(manifest, this.shadow);
    const back = { ...manifest, state: 'rolled-back' as const, rolledBackAt: new Date().toISOString() };
    await this.save(back);
    return back;
  }

  /** Drops the shadow (the replaced tables after a swap, the rebuilt ones otherwise). */
  async cleanup(): Promise<void> {
    const current = await this.current();
    if (holdsSink(current)) {
      throw new ConflictError('REPLAY_RESET_PENDING', 'a --reset-streams replay must be swapped (`replay resume` or `replay swap --force`): the live tables do not match the re-derived topics, and the sink stays held until then');
    }
    await this.deps.shadows.drop(this.shadow);
  }

  private async assertSwappable(): Promise<void> {
    if (!this.deps.live && (await this.deps.foreignSinkRunning())) {
      throw new ReplayError('REPLAY_SINK_RUNNING', 'a sink outside this process is loading the live tables: run the swap in the process that runs the sink (the CLI does so through its API) or stop that sink');
    }
  }

  /** Catches the shadow up and compares it with MySQL until they agree or the time is up. */
  private async verified(manifest: ReplayManifest): Promise<Drift[]> {
    const deadline = Date.now() + this.options.verifyTimeoutMs;
    const analytics = this.deps.analyticsFor(this.shadow);
    for (;;) {
      await this.catchUp(manifest, this.shadow);
      const drift = await this.deps.verify(analytics);
      if (drift.length === 0 || Date.now() >= deadline) return drift;
      this.options.logger.info('the shadow differs from MySQL; catching up and comparing again', { keys: drift.length });
      await sleep(1_000);
    }
  }

  /**
   * Catches `database` up, pauses the live sink, catches up again and exchanges the groups and
   * the ledger of `database` with the live ones, under the read gate. The ledger rows of topics
   * the replay does not cover are carried over first, so the sink finds its state for them.
   */
  private async exchange(manifest: ReplayManifest, database: string): Promise<void> {
    await this.catchUp(manifest, database);
    const live = this.deps.live;
    await live?.sink.pause();
    try {
      await this.catchUp(manifest, database);
      await this.settle(manifest, this.deps.database);
      await this.settle(manifest, database);
      await this.carryLedger(manifest, database);
      const tables = exchangedTables(manifest);
      const run = () => this.deps.shadows.exchange(database, tables);
      await (live ? live.gate.exclusive(run) : run());
    } finally {
      await live?.sink.resume();
    }
  }

  /** Loads into `database` every committed record of the replayed partitions up to their current end. */
  private async catchUp(manifest: ReplayManifest, database: string): Promise<void> {
    const writer = this.deps.writerFor(database);
    for (const topic of Object.keys(manifest.topics)) {
      for (const end of await this.deps.source.ends(topic)) {
        // A partition the database holds nothing of starts where the replay's range does (the
        // rebuilt tables) or at the log start (the replaced ones, after a swap).
        const frozen = manifest.state === 'loaded' ? manifest.ranges.find((r) => r.topic === topic && r.partition === end.partition) : undefined;
        const range = { topic, partition: end.partition, from: frozen?.from ?? end.logStart, to: end.lastStable };
        await this.loadRange(writer, manifest.topics[topic]!, range, (n) => this.options.onProgress({ phase: 'catch-up', loaded: n, total: n }));
      }
    }
  }

  /**
   * Makes every replayed partition of `database` end on a finished range: its latest recorded
   * range is loaded again (a no-op where it landed; the live sink is paused, so nothing else
   * loads), then an empty range after it is recorded. Once a generation of tables moves, its
   * ranges are never loaded again through the other database's views (which deduplicate under
   * names of their own: a range loaded again through them would count twice in the aggregates);
   * the sink or catch-up that takes the tables next starts after the empty range.
   */
  private async settle(manifest: ReplayManifest, database: string): Promise<void> {
    const writer = this.deps.writerFor(database);
    for (const [topic, table] of Object.entries(manifest.topics)) {
      for (const end of await this.deps.source.ends(topic)) {
        const recorded = await writer.lastRange(topic, end.partition);
        if (!recorded || recorded.first > recorded.last) continue;
        await this.read({ topic, partition: end.partition, from: recorded.first, to: recorded.last + 1n }, (records) =>
          this.insert(writer, table, topic, end.partition, recorded.first, recorded.last, records),
        );
        await writer.recordRange(topic, end.partition, recorded.last + 1n, recorded.last);
      }
    }
  }

  private async carryLedger(manifest: ReplayManifest, database: string): Promise<void> {
    const source = this.deps.writerFor(this.deps.database);
    const target = this.deps.writerFor(database);
    for (const topic of Object.keys(this.deps.loaded)) {
      if (manifest.topics[topic]) continue;
      for (const end of await this.deps.source.ends(topic).catch(() => [])) {
        const range = await source.lastRange(topic, end.partition);
        if (range) await target.recordRange(topic, end.partition, range.first, range.last);
      }
    }
  }

  /**
   * Loads the range into `writer`'s database from where its ledger stands: the latest recorded
   * range again, exactly, then the rest in recorded ranges of up to maxBatchSize records.
   * Returns how many offsets of the range are behind its position now.
   */
  private async loadRange(writer: AnalyticsWriter & RangeLedger, table: LoadedTable, range: PartitionRange, progress: (loaded: bigint) => void): Promise<bigint> {
    const { topic, partition } = range;
    const recorded = await writer.lastRange(topic, partition);
    let next = range.from;
    if (recorded && recorded.first <= recorded.last) {
      await this.read({ topic, partition, from: recorded.first, to: recorded.last + 1n }, async (records) => this.insert(writer, table, topic, partition, recorded.first, recorded.last, records));
    }
    if (recorded) next = recorded.last + 1n;
    if (next < range.to) {
      let pending: SourceRecord[] = [];
      const flush = async () => {
        if (pending.length === 0) return;
        const first = pending[0]!.offset;
        const last = pending[pending.length - 1]!.offset;
        await writer.recordRange(topic, partition, first, last);
        await this.insert(writer, table, topic, partition, first, last, pending);
        pending = [];
        progress(last + 1n - range.from);
      };
      await this.deps.source.read({ topic, partition, from: next, to: range.to }, this.options.maxBatchSize, async (records) => {
        for (const record of records) {
          pending.push(record);
          if (pending.length >= this.options.maxBatchSize) await flush();
        }
      });
      await flush();
    }
    return range.to > range.from ? range.to - range.from : 0n;
  }

  /** Reads a whole recorded range (it may take several fetches) and hands it over at once. */
  private async read(range: PartitionRange, onRange: (records: SourceRecord[]) => Promise<void>): Promise<void> {
    const records: SourceRecord[] = [];
    await this.deps.source.read(range, this.options.maxBatchSize, async (batch) => void records.push(...batch));
    await onRange(records);
  }

  private async insert(writer: AnalyticsWriter, table: LoadedTable, topic: string, partition: number, first: bigint, last: bigint, records: SourceRecord[]): Promise<void> {
    const values = await Promise.all(records.filter((r) => r.value !== null).map((r) => this.deps.decode(r.value!)));
    if (values.length > 0) await writeTable(writer, table, values, `${topic}-${partition}-${first}-${last}`);
  }

  private async save(manifest: ReplayManifest): Promise<void> {
    await this.deps.shadows.save(this.shadow, serializeManifest(manifest));
  }
}

export { TABLE_GROUPS };
