import { createLogger, type Logger } from '../core/log.js';
import { LATENCY_BUCKETS, noopMetrics, type Labels, type Metrics } from '../metrics/metrics.js';
import { FirstRecordCache, partitionLag } from './lag.js';
import { recordKey, type CommittedOffset, type FirstRecordAnswer, type GroupMembership, type LagSource, type PartitionEnd, type RecordRequest } from './lag-source.js';
import { DEFAULT_STATUS_OPTIONS, observe, partitionStatus, STATUSES, worst, type GroupStatus, type PartitionHistory, type StatusOptions } from './status.js';

export interface LagCollectorOptions extends StatusOptions {
  /** Consumer groups to watch (the pipeline's own and any others). */
  groups: string[];
  /** Time between the end of a collection and the start of the next. Default 5,000 ms. */
  intervalMs: number;
  metrics: Metrics;
  logger: Logger;
  /** Epoch ms (tests move time). Default Date.now. */
  now: () => number;
}

export const DEFAULT_LAG_COLLECTOR_OPTIONS: Omit<LagCollectorOptions, 'groups'> = {
  ...DEFAULT_STATUS_OPTIONS,
  intervalMs: 5_000,
  metrics: noopMetrics,
  logger: createLogger('lag-collector'),
  now: Date.now,
};

export interface PartitionReport {
  topic: string;
  partition: number;
  /** The offset lag is counted from: the committed one, or the log start when the group has none here. */
  committed: bigint;
  lastStable: bigint;
  messages: bigint;
  seconds: number;
}

export interface GroupReport {
  group: string;
  status: GroupStatus;
  members: number | undefined;
  partitions: PartitionReport[];
}

/**
 * Consumer lag of the watched groups, per group/topic/partition, as kafka-lag-exporter names it:
 *
 * - shopstream_consumergroup_lag{group,topic,partition}: messages (see monitoring/lag.ts);
 * - shopstream_consumergroup_lag_seconds{group,topic,partition}: seconds, from the timestamp of
 *   the record at the committed offset, read at each collection (not interpolated; 0 when caught up);
 * - shopstream_consumergroup_max_lag_seconds{group};
 * - shopstream_consumergroup_status{group,status}: 1 for the group's status, 0 for the others
 *   (rules in monitoring/status.ts);
 * - shopstream_lag_collector_scrape_duration_seconds, shopstream_lag_collector_errors_total.
 *
 * One collection: every group's committed offsets first, then the last stable offsets of their
 * topics (so a sample can only overstate the end, never make lag negative; clamped anyway), then
 * the first unconsumed record of each lagging partition (cached per offset). A group's partitions
 * are those of every topic it has committed offsets on; one without a committed offset counts from
 * the log start (the groups of the pipeline start from the earliest offset). A group that has
 * neither committed offsets nor members is not reported. The series of a partition or group that
 * is gone are removed; a partition whose offsets or record could not be read this time keeps its
 * previous values and counts an error.
 *
 * Lifecycle: `start` collects every `intervalMs` until `stop` (which waits for the collection in
 * flight). `collect` may also be called directly; calls made while one runs share it.
 */
export class LagCollector {
  private readonly options: LagCollectorOptions;
  private readonly cache = new FirstRecordCache();
  private readonly histories = new Map<string, PartitionHistory>();
  /** Per group, the label sets of the partition series exported. */
  private readonly exported = new Map<string, Map<string, Labels>>();
  private running: Promise<GroupReport[]> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private failing = false;
  private readonly instruments;

  constructor(
    private readonly source: LagSource,
    options: Partial<LagCollectorOptions> & Pick<LagCollectorOptions, 'groups'>,
  ) {
    this.options = { ...DEFAULT_LAG_COLLECTOR_OPTIONS, ...options, groups: [...new Set(options.groups)] };
    const metrics = this.options.metrics;
    const partitionLabels = ['group', 'topic', 'partition'];
    this.instruments = {
      lag: metrics.gauge({ name: 'shopstream_consumergroup_lag', help: 'Consumer lag in messages: last stable offset − committed offset (0 when caught up, also behind transaction markers)', labelNames: partitionLabels }),
      seconds: metrics.gauge({ name: 'shopstream_consumergroup_lag_seconds', help: 'Consumer lag in seconds: now − timestamp of the record at the committed offset (0 when caught up)', labelNames: partitionLabels }),
      maxSeconds: metrics.gauge({ name: 'shopstream_consumergroup_max_lag_seconds', help: 'Largest lag in seconds over the group\'s partitions', labelNames: ['group'] }),
      status: metrics.gauge({ name: 'shopstream_consumergroup_status', help: 'Group status (OK, WARN, STALL, STOP): 1 for the current one', labelNames: ['group', 'status'] }),
      duration: metrics.histogram({ name: 'shopstream_lag_collector_scrape_duration_seconds', help: 'Duration of one lag collection', buckets: LATENCY_BUCKETS }),
      errors: metrics.counter({ name: 'shopstream_lag_collector_errors_total', help: 'Lag collection steps that failed (offsets, group or record not read)' }),
    };
  }

  get groups(): readonly string[] {
    return this.options.groups;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const tick = () => {
      void this.collect().finally(() => {
        if (!this.stopped) (this.timer = setTimeout(tick, this.options.intervalMs)).unref();
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One collection now (or the one in flight); resolves with what it exported. */
  collect(): Promise<GroupReport[]> {
    this.running ??= this.collectOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async collectOnce(): Promise<GroupReport[]> {
    const started = performance.now();
    let errors = 0;
    const fail = (step: string, error: unknown) => {
      errors++;
      this.instruments.errors.inc();
      if (!this.failing) this.options.logger.warn(`lag collection: ${step} failed`, { error });
    };

    const committed = new Map<string, CommittedOffset[] | undefined>();
    for (const group of this.options.groups) {
      committed.set(group, await this.source.committedOffsets(group).catch((error) => (fail(`offsets of group ${group}`, error), undefined)));
    }
    const membership = await this.source.membership(this.options.groups).catch((error): Map<string, GroupMembership> | undefined => (fail('group membership', error), undefined));
    const topics = new Set([...committed.values()].flatMap((offsets) => offsets?.map((o) => o.topic) ?? []));
    const ends = new Map<string, PartitionEnd[] | undefined | 'failed'>();
    for (const topic of topics) {
      ends.set(topic, await this.source.partitionEnds(topic).catch((error) => (fail(`end offsets of ${topic}`, error), 'failed' as const)));
    }

    // The partitions of every group, and the records to read for those that lag.
    type Row = { group: string; topic: string; partition: number; committed: bigint; lastStable: bigint; first?: FirstRecordAnswer; read?: RecordRequest };
    const rows: Row[] = [];
    const failedTopics = new Set([...ends].flatMap(([topic, e]) => (e === 'failed' ? [topic] : []))); // their series stay as they were
    for (const [group, offsets] of committed) {
      if (!offsets) continue;
      const byTopic = new Map<string, Map<number, bigint | null>>();
      for (const o of offsets) (byTopic.get(o.topic) ?? byTopic.set(o.topic, new Map()).get(o.topic)!).set(o.partition, o.offset);
      for (const [topic, partitions] of byTopic) {
        const topicEnds = ends.get(topic);
        if (topicEnds === 'failed') continue;
        for (const end of topicEnds ?? []) {
          const offset = partitions.get(end.partition) ?? end.logStart;
          const row: Row = { group, topic, partition: end.partition, committed: offset, lastStable: end.lastStable };
          const known = this.cache.lookup(topic, end.partition, offset, end.lastStable);
          if ('first' in known) row.first = known.first;
          else row.read = known.read;
          rows.push(row);
        }
      }
    }
    const requests = new Map(rows.flatMap((row) => (row.read ? [[recordKey(row.read), row.read] as const] : [])));
    let readFailed = false;
    const answers =
      requests.size === 0
        ? new Map<string, FirstRecordAnswer>()
        : await this.source.firstRecords([...requests.values()]).catch((error) => ((readFailed = true), fail('reading records at committed offsets', error), new Map<string, FirstRecordAnswer>()));
    let unread = 0;
    for (const row of rows) {
      if (!row.read) continue;
      const answer = answers.get(recordKey(row.read));
      if (answer === undefined) {
        unread++;
        continue;
      }
      this.cache.store(row.committed, row.read, answer, row.lastStable);
      row.first = answer;
    }
    if (unread > 0 && !readFailed) fail('reading records at committed offsets', new Error(`${unread} partition(s) not read in time`));
    this.cache.prune();

    const now = this.options.now();
    const reports: GroupReport[] = [];
    for (const group of this.options.groups) {
      const offsets = committed.get(group);
      const members = membership?.get(group)?.members;
      const groupRows = rows.filter((row) => row.group === group);
      if (offsets === undefined) {
        // Offsets not known this time: everything of the group stays as it was.
        continue;
      }
      const exported = this.exported.get(group) ?? new Map<string, Labels>();
      const current = new Map<string, Labels>();
      for (const [key, labels] of exported) if (failedTopics.has(String(labels.topic))) current.set(key, labels);
      const partitions: PartitionReport[] = [];
      const statuses: GroupStatus[] = [];
      for (const row of groupRows) {
        const key = `${row.topic}:${row.partition}`;
        const labels = { group, topic: row.topic, partition: String(row.partition) };
        if (row.first === undefined) {
          if (exported.has(key)) current.set(key, labels); // not read in time: keeps its last values
          continue;
        }
        const lag = partitionLag(row.committed, row.lastStable, row.first, now);
        const historyKey = `${group}\u0000${key}`;
        const history = observe(this.histories.get(historyKey), { atMs: now, committed: row.committed, lag: lag.messages }, this.options.windowSamples);
        this.histories.set(historyKey, history);
        statuses.push(partitionStatus(history, now, this.options, members));
        this.instruments.lag.set(Number(lag.messages), labels);
        this.instruments.seconds.set(lag.seconds, labels);
        current.set(key, labels);
        partitions.push({ topic: row.topic, partition: row.partition, committed: row.committed, lastStable: row.lastStable, messages: lag.messages, seconds: lag.seconds });
      }
      for (const [key, labels] of exported) {
        if (current.has(key)) continue;
        this.instruments.lag.remove(labels);
        this.instruments.seconds.remove(labels);
        this.histories.delete(`${group}\u0000${key}`);
      }
      this.exported.set(group, current);
      if (offsets.length === 0 && !members) {
        this.removeGroup(group); // the broker knows no such group (or it has nothing to say yet)
        continue;
      }
      const status = worst(statuses);
      this.instruments.maxSeconds.set(Math.max(0, ...partitions.map((p) => p.seconds)), { group });
      for (const s of STATUSES) this.instruments.status.set(s === status ? 1 : 0, { group, status: s });
      reports.push({ group, status, members, partitions });
    }

    if (errors === 0 && this.failing) this.options.logger.info('lag collection recovered');
    this.failing = errors > 0;
    this.instruments.duration.observe((performance.now() - started) / 1000);
    return reports;
  }

  private removeGroup(group: string): void {
    for (const labels of this.exported.get(group)?.values() ?? []) {
      this.instruments.lag.remove(labels);
      this.instruments.seconds.remove(labels);
    }
    this.exported.delete(group);
    this.instruments.maxSeconds.remove({ group });
    for (const status of STATUSES) this.instruments.status.remove({ group, status });
  }
}
