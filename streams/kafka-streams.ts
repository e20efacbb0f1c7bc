import { hostname } from 'node:os';
import { errorMessage } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { LATENCY_BUCKETS, noopMetrics, type Metrics } from '../metrics/metrics.js';
import { createKafka, type Admin, type Consumer, type Kafka, type KafkaOptions, type Producer } from '../kafka/client.js';
import { ensureTopics } from '../kafka/topics.js';
import type { FailureHandler, Headers } from './api.js';
import { PartitionReader } from './internal/partition-reader.js';
import { awaitNoOpenTransaction } from './internal/stable.js';
import { StreamTask, type RawRecord, type SinkOutput } from './internal/task.js';
import { InMemoryKeyValueStore } from './state.js';
import type { Topology } from './topology.js';

export interface StreamsOptions {
  /** Consumer group, transactional-id prefix and changelog topic prefix. Required. */
  applicationId: string;
  /** This instance's name in transactional ids. Default: host-pid. */
  instanceId: string;
  /** Dead-letter topic for records a handler sends there. Default: none (dead-letter acts as fail). */
  deadLetterTopic: string | undefined;
  /** Failure policy per stage (deserialize, process, produce). Default: fail. */
  onFailure: FailureHandler;
  /** Called once when processing cannot go on (a stage failed, the producer was fenced). */
  onFatal: (error: unknown) => void;
  /** Most records handed over per partition fetch. Default 2,000. */
  maxBatchSize: number;
  /** A transaction commits this long after it began (Kafka Streams' commit.interval.ms). Default 100 ms. */
  commitIntervalMs: number;
  /** ... or once it holds this many input records. Default 10,000. */
  maxTransactionRecords: number;
  /** Punctuation check interval. Default 1,000 ms. */
  punctuateIntervalMs: number;
  /** Replication factor of the changelog topics. Default 1. */
  replicationFactor: number;
  metrics: Metrics;
  logger: Logger;
}

export const DEFAULT_STREAMS_OPTIONS: Omit<StreamsOptions, 'applicationId'> = {
  instanceId: `${hostname()}-${process.pid}`,
  deadLetterTopic: undefined,
  onFailure: () => 'fail',
  onFatal: () => undefined,
  maxBatchSize: 2_000,
  commitIntervalMs: 100,
  maxTransactionRecords: 10_000,
  punctuateIntervalMs: 1_000,
  replicationFactor: 1,
  metrics: noopMetrics,
  logger: createLogger('streams'),
};

export function changelogTopic(applicationId: string, store: string): string {
  return `${applicationId}-${store}-changelog`;
}

/**
 * Runs a Topology against Kafka with exactly-once processing.
 *
 * Tasks: one per input partition (the source topics are co-partitioned: partition p of every
 * source belongs to task p). On assignment a task's logged stores are restored from their
 * compacted changelog partitions before it sees a record; on revocation the task is closed.
 * Global stores are loaded whole before processing starts and followed while it runs.
 *
 * Exactly once: a Kafka transaction spans the batches of every partition processed within
 * commitIntervalMs, and holds their outputs, their tasks' store changes (changelog records) and
 * the consumed offsets. If anything fails the transaction is aborted, the tasks' pending store
 * writes are dropped and every partition it touched is read again from where the transaction
 * began, so outputs, state and offsets always move together. A zombie instance is fenced by the
 * brokers; its commit fails and `onFatal` is called.
 *
 * Lifecycle: `start` resolves once consuming; `close` stops consuming, lets the transaction in
 * flight finish, closes processors and stores, disconnects.
 */
export class KafkaStreams {
  private readonly options: StreamsOptions;
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly tasks = new Map<number, StreamTask>();
  private readonly globalStores = new Map<string, InMemoryKeyValueStore<unknown>>();
  private globalReader: PartitionReader | undefined;
  private restoreReader: PartitionReader | undefined;
  /** Creates changelogs, reads metadata, checks changelogs for open transactions before restores. */
  private admin: Admin | undefined;
  private readonly closing = new AbortController();
  private punctuation: NodeJS.Timeout | undefined;
  private committer: NodeJS.Timeout | undefined;
  /** The transaction in progress: what it consumed (from where, up to where) and which tasks wrote. */
  private open:
    | { transaction: Producer; began: number; records: number; from: Map<string, TopicOffset>; to: Map<string, TopicOffset>; tasks: Map<number, StreamTask> }
    | undefined;
  private failure: unknown;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly instruments;

  constructor(
    private readonly topology: Topology,
    private readonly kafkaOptions: KafkaOptions,
    options: Partial<StreamsOptions> & { applicationId: string },
  ) {
    this.options = { ...DEFAULT_STREAMS_OPTIONS, ...options };
    this.kafka = createKafka(kafkaOptions);
    const id = this.options.applicationId;
    this.consumer = this.kafka.consumer({
      kafkaJS: { groupId: id, fromBeginning: true, autoCommit: false },
      'isolation.level': 'read_committed',
      'js.consumer.max.batch.size': this.options.maxBatchSize,
      'fetch.wait.max.ms': 10,
      'partition.assignment.strategy': 'range',
      // A crashed instance's partitions move on after 10 s, not librdkafka's default 45 s.
      'session.timeout.ms': 10_000,
      'heartbeat.interval.ms': 3_000,
      rebalance_cb: (error: { code: number }, assignment: { topic: string; partition: number }[]) => this.onRebalance(error, assignment),
    });
    this.producer = this.kafka.producer({
      'transactional.id': `${id}-${this.options.instanceId}`,
      // A crashed instance's open transaction is aborted by the coordinator after 10 s (not 60 s),
      // so read_committed readers are not held back longer than that.
      'transaction.timeout.ms': 10_000,
      'socket.timeout.ms': 10_000, // librdkafka: at most transaction.timeout.ms + 100
      'enable.idempotence': true,
      acks: -1,
      'linger.ms': 2,
      'compression.type': 'lz4',
      partitioner: 'murmur2_random',
    });
    const metrics = this.options.metrics;
    this.instruments = {
      processed: metrics.counter({ name: 'shopstream_streams_records_processed_total', help: 'Records processed by the topology', labelNames: ['topic'] }),
      aborted: metrics.counter({ name: 'shopstream_streams_transactions_aborted_total', help: 'Stream transactions aborted and retried' }),
      restored: metrics.counter({ name: 'shopstream_streams_records_restored_total', help: 'Changelog records restored into state stores' }),
      transactions: metrics.counter({ name: 'shopstream_streams_transactions_committed_total', help: 'Stream transactions committed' }),
      recordAge: metrics.histogram({
        name: 'shopstream_streams_record_age_seconds',
        help: 'Age of a record (since its producer wrote it) when the topology processed it: consumer lag in seconds',
        labelNames: ['topic'],
        buckets: LATENCY_BUCKETS,
      }),
    };
  }

  async start(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await this.ensureChangelogs(this.admin);
    await this.loadGlobalStores(this.admin);
    this.restoreReader = new PartitionReader(this.kafkaOptions.brokers, `${this.options.applicationId}-restore`);
    await this.restoreReader.connect();
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topology.sourceTopics() });
    await this.consumer.run({
      eachBatch: async ({ batch, isStale }) => {
        if (this.failure) throw this.failure;
        // A batch that waited behind an aborted transaction is stale: its partition was seeked
        // back and these records come again in order.
        await this.serialized(() => (isStale() ? Promise.resolve() : this.processBatch(batch.topic, batch.partition, batch.messages)));
      },
    });
    this.punctuation = setInterval(() => void this.punctuate(), this.options.punctuateIntervalMs);
    this.committer = setInterval(() => void this.serialized(() => this.commitIfDue()), Math.max(5, this.options.commitIntervalMs / 2));
  }

  /** Runs `work` after everything queued before it (one transaction at a time on the producer). */
  private serialized(work: () => Promise<void>): Promise<void> {
    const run = this.inFlight.then(work);
    this.inFlight = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closing.abort();
    clearInterval(this.punctuation);
    clearInterval(this.committer);
    await this.serialized(() => this.commit()).catch(() => undefined);
    await this.consumer.disconnect().catch(() => undefined);
    await this.inFlight;
    await this.producer.disconnect().catch(() => undefined);
    await this.restoreReader?.close().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    await this.globalReader?.close().catch(() => undefined);
    for (const task of this.tasks.values()) task.close();
    this.tasks.clear();
  }

  /** Partitions this instance processes now (for tests and status). */
  assignedPartitions(): number[] {
    return [...this.tasks.keys()].sort((a, b) => a - b);
  }

  /** The changelog topics of the topology's logged stores. */
  private changelogTopics(): string[] {
    return [...this.topology.stores.values()].filter((store) => store.logged).map((store) => changelogTopic(this.options.applicationId, store.name));
  }

  private async ensureChangelogs(admin: Admin): Promise<void> {
    const topics = this.changelogTopics();
    if (topics.length === 0) return;
    const [source] = await admin.fetchTopicMetadata({ topics: [this.topology.sourceTopics()[0]!] });
    const partitions = source!.partitions.length;
    await ensureTopics(
      admin,
      topics.map((name) => ({
        name,
        partitions,
        replicationFactor: this.options.replicationFactor,
        config: { 'cleanup.policy': 'compact', 'min.insync.replicas': String(Math.min(2, this.options.replicationFactor)) },
      })),
    );
  }

  private async loadGlobalStores(admin: Admin): Promise<void> {
    const specs = [...this.topology.globalStores.values()];
    if (specs.length === 0) return;
    const metadata = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.topic) });
    const byTopic = new Map(specs.map((spec) => [spec.topic, spec]));
    for (const spec of specs) this.globalStores.set(spec.name, new InMemoryKeyValueStore(spec.name, false));
    this.globalReader = new PartitionReader(this.kafkaOptions.brokers, `${this.options.applicationId}-global`);
    await this.globalReader.connect();
    const partitions = metadata.flatMap((topic) => topic.partitions.map((p) => ({ topic: topic.name, partition: p.partitionId })));
    // Global topics are changelogs of their own: apply each record in order as it comes.
    await this.globalReader.follow(partitions, async (record) => {
      const spec = byTopic.get(record.topic)!;
      if (record.key === null) return;
      const store = this.globalStores.get(spec.name)!;
      try {
        spec.update(store, record.key, await spec.valueSerde.deserialize(record.topic, record.value, {}));
        store.commit();
      } catch (error) {
        store.abort();
        this.options.logger.warn('global store record skipped', { store: spec.name, error });
      }
    });
  }

  /** Awaited by the consumer before an assignment takes effect, so tasks are restored first. */
  private async onRebalance(error: { code: number }, assignment: { topic: string; partition: number }[]): Promise<void> {
    const assigning = error.code === -175; // ERR__ASSIGN_PARTITIONS
    const partitions = [...new Set(assignment.map((tp) => tp.partition))];
    if (!assigning) {
      // Partitions are leaving: what was processed for them commits first.
      await this.serialized(() => this.commit()).catch(() => undefined);
      for (const partition of partitions) {
        this.tasks.get(partition)?.close();
        this.tasks.delete(partition);
      }
      return;
    }
    const arriving = partitions.filter((partition) => !this.tasks.has(partition));
    await awaitNoOpenTransaction(this.admin!, this.changelogTopics(), arriving, {
      signal: this.closing.signal,
      onWaiting: (waitedMs, open) =>
        this.options.logger.info('waiting for a transaction left open on a changelog (a stopped instance\'s) to end before restoring', { waitedMs, open }),
    });
    for (const partition of arriving) {
      const task = new StreamTask(this.topology, this.options.onFailure, Date.now, this.globalStores);
      task.createStores();
      await this.restore(task, partition);
      task.init();
      this.tasks.set(partition, task);
    }
  }

  private async restore(task: StreamTask, partition: number): Promise<void> {
    const logged = [...task.localStores.entries()].filter(([, store]) => store instanceof InMemoryKeyValueStore && store.logged) as [string, InMemoryKeyValueStore<unknown>][];
    const topics = new Map(logged.map(([name, store]) => [changelogTopic(this.options.applicationId, name), store]));
    let restored = 0;
    await this.restoreReader!.readToEnd([...topics.keys()].map((topic) => ({ topic, partition })), (record) => {
      if (record.key === null) return;
      topics.get(record.topic)!.restore(record.key, record.value === null ? null : JSON.parse(record.value.toString('utf8')));
      restored++;
    });
    this.instruments.restored.inc(undefined, restored);
    if (restored > 0) this.options.logger.info('restored state', { partition, records: restored });
  }

  private async processBatch(
    topic: string,
    partition: number,
    messages: { key: Buffer | null; value: Buffer | null; offset: string; timestamp: string; headers?: unknown }[],
  ): Promise<void> {
    if (messages.length === 0) return;
    const task = this.tasks.get(partition);
    if (!task) throw new Error(`no task for partition ${partition} (not assigned to this instance)`);
    const key = `${topic}:${partition}`;
    const first = { topic, partition, offset: messages[0]!.offset };
    try {
      const open = await this.begin();
      // Recorded before processing: if anything below fails, this batch is read again too.
      if (!open.from.has(key)) open.from.set(key, first);
      open.tasks.set(partition, task);
      const outputs: SinkOutput[] = [];
      const deadLetters: { raw: RawRecord; error: unknown; stage: string }[] = [];
      for (const message of messages) {
        const raw: RawRecord = {
          topic,
          partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
          headers: toHeaders(message.headers),
          timestamp: Number(message.timestamp),
        };
        const result = await task.processRaw(raw);
        outputs.push(...result.outputs);
        if (result.deadLetter) deadLetters.push({ raw, ...result.deadLetter });
      }
      open.to.set(key, { topic, partition, offset: String(BigInt(messages[messages.length - 1]!.offset) + 1n) });
      open.records += messages.length;
      await this.send(open.transaction, outputs);
      await this.sendDeadLetters(open.transaction, deadLetters);
      this.instruments.processed.inc({ topic }, messages.length);
      const now = Date.now();
      for (const message of messages) this.instruments.recordAge.observe(Math.max(0, now - Number(message.timestamp)) / 1000, { topic });
      await this.commitIfDue();
    } catch (error) {
      await this.abort(error, first);
    }
  }

  private async begin(): Promise<NonNullable<KafkaStreams['open']>> {
    this.open ??= { transaction: await this.producer.transaction(), began: Date.now(), records: 0, from: new Map(), to: new Map(), tasks: new Map() };
    return this.open;
  }

  private async commitIfDue(): Promise<void> {
    const open = this.open;
    if (open && (Date.now() - open.began >= this.options.commitIntervalMs || open.records >= this.options.maxTransactionRecords)) await this.commit();
  }

  /** Sends the touched tasks' store changes and the consumed offsets, and commits. */
  private async commit(): Promise<void> {
    const open = this.open;
    if (!open) return;
    try {
      for (const [partition, task] of open.tasks) await this.sendChangelog(open.transaction, task, partition);
      const byTopic = new Map<string, { partition: number; offset: string }[]>();
      for (const { topic, partition, offset } of open.to.values()) byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, offset }]);
      if (byTopic.size > 0) await open.transaction.sendOffsets({ consumer: this.consumer, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
      await open.transaction.commit();
      this.open = undefined;
      for (const task of open.tasks.values()) task.commitStores();
      this.instruments.transactions.inc();
    } catch (error) {
      await this.abort(error);
    }
  }

  /**
   * Aborts the open transaction: drops the touched tasks' pending store writes and makes every
   * partition it consumed, and the batch `failed` in (when no transaction could begin), be read
   * again from where the transaction began.
   */
  private async abort(error: unknown, failed?: TopicOffset): Promise<void> {
    const open = this.open;
    this.open = undefined;
    this.instruments.aborted.inc();
    const positions = new Map(open?.from);
    if (failed && !positions.has(`${failed.topic}:${failed.partition}`)) positions.set(`${failed.topic}:${failed.partition}`, failed);
    if (open) {
      for (const task of open.tasks.values()) task.abortStores();
      await open.transaction.abort().catch(() => undefined);
    }
    for (const position of positions.values()) this.consumer.seek(position);
    if (isFatal(error)) this.fail(error);
    else this.options.logger.warn('stream transaction aborted; its records will be processed again', { error });
  }

  /** Pending store writes go to the changelog inside the transaction; they apply on commit. */
  private async sendChangelog(transaction: Producer, task: StreamTask, partition: number): Promise<void> {
    for (const [name, store] of task.localStores) {
      if (!(store instanceof InMemoryKeyValueStore) || !store.logged) continue;
      const changes = store.pendingChanges();
      if (changes.length === 0) continue;
      await transaction.send({
        topic: changelogTopic(this.options.applicationId, name),
        messages: changes.map((change) => ({ key: change.key, value: change.value === null ? null : JSON.stringify(change.value), partition })),
      });
    }
  }

  private async send(producer: Producer, outputs: SinkOutput[]): Promise<void> {
    const byTopic = new Map<string, { key: Buffer | null; value: Buffer; headers: Headers }[]>();
    for (const { sink, record } of outputs) {
      let key: Buffer | null;
      let value: Buffer;
      try {
        key = record.key === null || record.key === undefined ? null : await sink.key.serialize(sink.topic, record.key, record.headers);
        value = await sink.value.serialize(sink.topic, record.value, record.headers);
      } catch (error) {
        if (this.options.onFailure({ stage: 'produce', error }) === 'continue') continue;
        throw error;
      }
      const list = byTopic.get(sink.topic) ?? [];
      list.push({ key, value, headers: record.headers });
      byTopic.set(sink.topic, list);
    }
    for (const [topic, messages] of byTopic) await producer.send({ topic, messages });
  }

  private async sendDeadLetters(producer: Producer, entries: { raw: RawRecord; error: unknown; stage: string }[]): Promise<void> {
    if (entries.length === 0) return;
    const topic = this.options.deadLetterTopic;
    if (!topic) throw new Error(`a record was sent to the dead-letter topic, but none is configured: ${errorMessage(entries[0]!.error)}`);
    await producer.send({
      topic,
      messages: entries.map(({ raw, error, stage }) => ({
        key: raw.key,
        value: raw.value,
        headers: {
          ...raw.headers,
          dlq_stage: stage,
          dlq_error: errorMessage(error).slice(0, 1000),
          dlq_source: `${raw.topic}/${raw.partition}/${raw.offset}`,
          dlq_application: this.options.applicationId,
        },
      })),
    });
  }

  /** Punctuators run inside the open transaction (their outputs and store writes commit with it). */
  private async punctuate(): Promise<void> {
    if (this.failure) return;
    await this.serialized(async () => {
      try {
        for (const [partition, task] of this.tasks) {
          // The task joins the transaction before its punctuators write, so an abort drops those writes.
          const open = await this.begin();
          open.tasks.set(partition, task);
          await this.send(open.transaction, await task.punctuate());
        }
        await this.commitIfDue();
      } catch (error) {
        await this.abort(error);
      }
    });
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = error;
    this.options.logger.error('stream processing stopped', { error });
    this.options.onFatal(error);
  }
}

/** A stage the handler said to fail on, or a fenced/fatal producer: this instance must stop. */
function isFatal(error: unknown): boolean {
  const e = error as { code?: string; fatal?: boolean; message?: string };
  return e.code === 'STREAMS_STAGE_FAILED' || e.fatal === true || /fenced/i.test(e.message ?? '');
}

interface TopicOffset {
  topic: string;
  partition: number;
  offset: string;
}

function toHeaders(headers: unknown): Headers {
  const result: Headers = {};
  if (!headers || typeof headers !== 'object') return result;
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first !== null) result[name] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return result;
}
