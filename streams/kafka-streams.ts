import { hostname } from 'node:os';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { DependencyError, errorMessage, isRetriable, ShopstreamError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { backoffDelay, retry, sleep } from '../core/retry.js';
import { E2E_LATENCY, LATENCY_BUCKETS, noopMetrics, type Metrics } from '../metrics/metrics.js';
import { createKafka, type Admin, type Consumer, type Kafka, type KafkaOptions, type Producer } from '../kafka/client.js';
import { TransactionError, Transactions, transactionErrorKind } from '../kafka/transactions.js';
import { ensureTopics } from '../kafka/topics.js';
import type { FailureHandler, Headers } from './api.js';
import { PartitionReader } from './internal/partition-reader.js';
import { awaitNoOpenTransaction } from './internal/stable.js';
import { StreamsStageError, StreamTask, type RawRecord, type SinkOutput } from './internal/task.js';
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
  /**
   * How long a commit (or abort) that fails retriably is asked again before its outcome counts
   * as unknown and the instance stops. Default 60,000 ms.
   */
  commitTimeoutMs: number;
  /**
   * Before a batch is processed the global stores catch up with their topics' ends as of then;
   * not caught up within this long, the batch is tried again later. Default 30,000 ms.
   */
  globalCatchUpTimeoutMs: number;
  /**
   * An operation on the transaction (a batch, a commit, a punctuation, a revocation's commit)
   * still running after this long stops the instance (STREAMS_STALLED), as Kafka Streams'
   * task.timeout.ms does: a call that never returns (a native call stuck in librdkafka, a serde
   * that never answers) turns into a restart, not a stall. Must exceed the longest legitimate
   * operation: a commit asked again for commitTimeoutMs, each call answered within 35 s, after the
   * global stores' catch-up (globalCatchUpTimeoutMs). Default 180,000 ms.
   */
  stallTimeoutMs: number;
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
  commitTimeoutMs: 60_000,
  globalCatchUpTimeoutMs: 30_000,
  stallTimeoutMs: 180_000,
  punctuateIntervalMs: 1_000,
  replicationFactor: 1,
  metrics: noopMetrics,
  logger: createLogger('streams'),
};

const STREAMS_STAGE = { stage: 'streams' };

export function changelogTopic(applicationId: string, store: string): string {
  return `${applicationId}-${store}-changelog`;
}

/**
 * Runs a Topology against Kafka with exactly-once processing.
 *
 * Tasks: one per input partition (the source topics are co-partitioned: partition p of every
 * source belongs to task p). On assignment a task's logged stores are restored from their
 * compacted changelog partitions before it sees a record; on revocation the task is closed.
 * Global stores are loaded whole before processing starts and followed while it runs; before each
 * batch they catch up with their topics' ends as of then (see awaitGlobalStores).
 *
 * Exactly once: a Kafka transaction spans the batches of every partition processed within
 * commitIntervalMs, and holds their outputs, their tasks' store changes (changelog records) and
 * the consumed offsets, so outputs, state and offsets always move together. Failures are handled
 * by what librdkafka says of them, as Kafka Streams does:
 * - a commit that fails retriably (a timeout: the commit goes on in the background and its
 *   outcome is unknown) is retried until librdkafka reports the outcome; its store writes are
 *   kept meanwhile;
 * - an abortable failure (of a send, of the commit) aborts the transaction: only then are the
 *   tasks' pending store writes dropped and every partition it touched read again from where
 *   the transaction began; transient failures of anything else (the registry) go the same way.
 *   The next transaction begins after a backoff that grows while aborts repeat;
 * - a fatal failure (fenced by a newer instance, a commit whose outcome stays unknown, an abort
 *   that cannot be made, a stage whose handler answered `fail`) stops the instance: `onFatal` is
 *   called and nothing more is processed. Its state is not trusted any more; a new instance
 *   (the supervisor's) restores the stores from the changelogs and resumes from the committed
 *   offsets, after its producer's initialization completed or aborted what this one left open.
 *
 * Lifecycle: `start` resolves once consuming; `close` stops consuming, lets the transaction in
 * flight finish, closes processors and stores, disconnects.
 */
export class KafkaStreams {
  private readonly options: StreamsOptions;
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  /** librdkafka's transactional calls on `producer`, with their error classes (set once connected). */
  private transactions!: Transactions;
  private readonly tasks = new Map<number, StreamTask>();
  private readonly globalStores = new Map<string, InMemoryKeyValueStore<unknown>>();
  private globalReader: PartitionReader | undefined;
  private globalTopics: string[] = [];
  private restoreReader: PartitionReader | undefined;
  /** Creates changelogs, reads metadata, checks changelogs for open transactions before restores. */
  private admin: Admin | undefined;
  private readonly closing = new AbortController();
  private punctuation: NodeJS.Timeout | undefined;
  private committer: NodeJS.Timeout | undefined;
  /**
   * The transaction in progress: what it consumed (from where, up to where), which tasks wrote,
   * and the outbox commit times (committed_at, epoch µs) of its input records, observed as the
   * `streams` stage of the end-to-end latency once it committed.
   */
  private open:
    | { transaction: Producer; began: number; records: number; from: Map<string, TopicOffset>; to: Map<string, TopicOffset>; tasks: Map<number, StreamTask>; committedAt: number[] }
    | undefined;
  private failure: unknown;
  /** Aborts in a row (reset by a commit): the next transaction waits backoffDelay(n). */
  private consecutiveAborts = 0;
  private pausedUntil = 0;
  private inFlight: Promise<void> = Promise.resolve();
  /** The operation of the queue running now (see stallTimeoutMs). */
  private running: { what: string; since: number } | undefined;
  /** Rejects once the instance failed: whatever waits on its queue lets go then (see fail). */
  private readonly stopped: Promise<never>;
  private stop!: (error: unknown) => void;
  private readonly instruments;

  constructor(
    private readonly topology: Topology,
    private readonly kafkaOptions: KafkaOptions,
    options: Partial<StreamsOptions> & { applicationId: string },
  ) {
    this.options = { ...DEFAULT_STREAMS_OPTIONS, ...options };
    this.stopped = new Promise<never>((_, reject) => (this.stop = reject));
    this.stopped.catch(() => undefined);
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
      commitRetries: metrics.counter({ name: 'shopstream_streams_commit_retries_total', help: 'Transaction commits asked again after a retriable failure (outcome not yet known)' }),
      recordAge: metrics.histogram({
        name: 'shopstream_streams_record_age_seconds',
        help: 'Age of a record (since its producer wrote it) when the topology processed it: consumer lag in seconds',
        labelNames: ['topic'],
        buckets: LATENCY_BUCKETS,
      }),
      endToEnd: metrics.histogram(E2E_LATENCY),
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
    this.transactions = new Transactions(this.producer);
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topology.sourceTopics() });
    await this.consumer.run({
      eachBatch: async ({ batch, isStale }) => {
        if (this.failure) throw this.failure;
        // A batch that waited behind an aborted transaction is stale: its partition was seeked
        // back and these records come again in order.
        await this.serialized('a batch', () => (isStale() ? Promise.resolve() : this.processBatch(batch.topic, batch.partition, batch.messages)));
      },
    });
    this.punctuation = setInterval(() => void this.punctuate(), this.options.punctuateIntervalMs);
    this.committer = setInterval(() => {
      this.failIfStalled();
      void this.serialized('a commit', () => this.commitIfDue()).catch(() => undefined);
    }, Math.max(5, this.options.commitIntervalMs / 2));
  }

  /**
   * Runs `work` after everything queued before it (one transaction at a time on the producer).
   * The returned promise also rejects as soon as the instance fails: a caller (the consumer's
   * batch, a revocation) never waits on work a failed instance left stuck.
   */
  private serialized(what: string, work: () => Promise<void>): Promise<void> {
    const run = this.inFlight.then(async () => {
      this.running = { what, since: Date.now() };
      try {
        await work();
      } finally {
        this.running = undefined;
      }
    });
    this.inFlight = run.catch(() => undefined);
    return Promise.race([run, this.stopped]);
  }

  private failIfStalled(): void {
    const running = this.running;
    if (running && Date.now() - running.since > this.options.stallTimeoutMs) this.fail(new StreamsStalledError(running.what, Date.now() - running.since));
  }

  async close(): Promise<void> {
    this.closing.abort();
    clearInterval(this.punctuation);
    clearInterval(this.committer);
    // A failed instance commits nothing more, nor waits for its queue (work in it may be stuck):
    // what it left open is resolved by its successor, whose producer fences this one.
    if (!this.failure) await this.serialized('the last commit', () => this.commit()).catch(() => undefined);
    await this.consumer.disconnect().catch(() => undefined);
    if (!this.failure) await this.inFlight;
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
    this.globalTopics = specs.map((spec) => spec.topic);
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
      await this.serialized('a revocation\'s commit', () => this.commit()).catch(() => undefined);
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
      await this.awaitGlobalStores();
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
        for (const output of result.outputs) outputs.push({ ...output, source: raw });
        if (result.deadLetter) deadLetters.push({ raw, ...result.deadLetter });
        const committedAt = raw.headers.committed_at;
        if (committedAt !== undefined) open.committedAt.push(Number(committedAt));
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

  /**
   * Waits until the global stores hold everything their topics held when the batch about to be
   * processed had been fetched (their last stable offsets, asked now): a user or product written
   * before an order was published is in the stores when the order is enriched. Not caught up
   * within globalCatchUpTimeoutMs is a transient failure: the batch is tried again later.
   */
  private async awaitGlobalStores(): Promise<void> {
    if (!this.globalReader || this.globalTopics.length === 0) return;
    const ends = (
      await Promise.all(
        this.globalTopics.map(async (topic) =>
          (await this.admin!.fetchTopicOffsets(topic, { isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED })).map((p) => ({ topic, partition: p.partition, offset: Number(p.offset) })),
        ),
      ).catch((error: unknown) => {
        throw new DependencyError('kafka', `the global stores' end offsets could not be read: ${errorMessage(error)}`, { cause: error });
      })
    ).flat();
    const deadline = Date.now() + this.options.globalCatchUpTimeoutMs;
    while (!this.globalReader.caughtUp(ends)) {
      if (Date.now() > deadline) throw new DependencyError('kafka', `the global stores did not catch up with their topics within ${this.options.globalCatchUpTimeoutMs} ms`);
      await sleep(2, this.closing.signal);
    }
  }

  private async begin(): Promise<NonNullable<KafkaStreams['open']>> {
    if (this.open) return this.open;
    if (this.failure) throw this.failure;
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) await sleep(wait, this.closing.signal);
    await this.transactions.begin();
    this.open = { transaction: this.producer, began: Date.now(), records: 0, from: new Map(), to: new Map(), tasks: new Map(), committedAt: [] };
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
      if (open.to.size > 0) await this.transactions.sendOffsets(this.consumer, [...open.to.values()]);
      await this.commitTransaction();
    } catch (error) {
      return this.abort(error);
    }
    this.open = undefined;
    this.consecutiveAborts = 0;
    for (const task of open.tasks.values()) task.commitStores();
    this.instruments.transactions.inc();
    const now = Date.now() * 1000;
    for (const committedAt of open.committedAt) this.instruments.endToEnd.observe(Math.max(0, now - committedAt) / 1e6, STREAMS_STAGE);
  }

  /**
   * Commits the transaction. A retriable failure leaves the commit going on in the background
   * (librdkafka: "the commit continues"), so the outcome is unknown: the same commit is asked
   * again until librdkafka reports it (success, or an abortable or fatal error). Giving up on an
   * unknown outcome is fatal: neither keeping nor dropping the store writes would be safe.
   */
  private async commitTransaction(): Promise<void> {
    try {
      await retry(() => this.transactions.commit(), {
        attempts: Number.POSITIVE_INFINITY,
        initialDelayMs: 100,
        maxDelayMs: 2_000,
        maxElapsedMs: this.options.commitTimeoutMs,
        retryOn: (error) => transactionErrorKind(error) === 'retriable' && !this.closing.signal.aborted,
        onRetry: (error, attempt) => {
          this.instruments.commitRetries.inc();
          this.options.logger.warn('transaction commit not confirmed; asking again', { attempt, error: errorMessage(error) });
        },
      });
    } catch (error) {
      if (transactionErrorKind(error) === 'retriable') throw new CommitOutcomeUnknownError(error);
      throw error;
    }
  }

  /**
   * Ends a failed transaction. A fatal failure stops the instance. Otherwise the transaction is
   * aborted (the abort retried while it fails retriably; an abort that cannot be made is fatal),
   * the touched tasks' pending store writes are dropped, every partition it consumed, and the
   * batch `failed` in (when no transaction could begin), is read again from where the
   * transaction began, and the next transaction waits a growing backoff.
   */
  private async abort(error: unknown, failed?: TopicOffset): Promise<void> {
    const open = this.open;
    this.open = undefined;
    this.instruments.aborted.inc();
    if (failureKind(error) === 'fatal') return this.fail(error);
    if (open) {
      try {
        await retry(() => this.transactions.abort(), {
          attempts: Number.POSITIVE_INFINITY,
          initialDelayMs: 100,
          maxDelayMs: 2_000,
          maxElapsedMs: this.options.commitTimeoutMs,
          retryOn: (abortError) => transactionErrorKind(abortError) === 'retriable' && !this.closing.signal.aborted,
        });
      } catch (abortError) {
        const why = `${errorMessage(error)} (code ${(error as { code?: unknown }).code}, ${transactionErrorKind(error)})`;
        return this.fail(new ShopstreamError('STREAMS_ABORT_FAILED', `a transaction that failed with ${why} could not be aborted: ${errorMessage(abortError)}`, { cause: abortError }));
      }
      for (const task of open.tasks.values()) task.abortStores();
    }
    const positions = new Map(open?.from);
    if (failed && !positions.has(`${failed.topic}:${failed.partition}`)) positions.set(`${failed.topic}:${failed.partition}`, failed);
    for (const position of positions.values()) this.consumer.seek(position);
    const delayMs = backoffDelay(++this.consecutiveAborts, { initialDelayMs: 50, maxDelayMs: 5_000 });
    this.pausedUntil = Date.now() + delayMs;
    this.options.logger.warn('stream transaction aborted; its records will be processed again', { error, retryInMs: delayMs });
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

  /**
   * Serializes and sends the outputs. A record that cannot be serialized goes to the produce
   * stage's handler (skip it, send its source record to the dead-letter topic, or stop); a
   * transient failure (the registry) is thrown, so the transaction aborts and is tried again.
   */
  private async send(producer: Producer, outputs: SinkOutput[]): Promise<void> {
    const byTopic = new Map<string, { key: Buffer | null; value: Buffer; headers: Headers }[]>();
    const deadLetters: { raw: RawRecord; error: unknown; stage: string }[] = [];
    for (const { sink, record, source } of outputs) {
      let key: Buffer | null;
      let value: Buffer;
      try {
        key = record.key === null || record.key === undefined ? null : await sink.key.serialize(sink.topic, record.key, record.headers);
        value = await sink.value.serialize(sink.topic, record.value, record.headers);
      } catch (error) {
        if (isRetriable(error)) throw error;
        const response = this.options.onFailure({ stage: 'produce', error, source });
        if (response === 'continue') continue;
        if (response === 'dead-letter' && source) {
          deadLetters.push({ raw: source, error, stage: 'produce' });
          continue;
        }
        throw new StreamsStageError('produce', error);
      }
      const list = byTopic.get(sink.topic) ?? [];
      list.push({ key, value, headers: record.headers });
      byTopic.set(sink.topic, list);
    }
    for (const [topic, messages] of byTopic) await producer.send({ topic, messages });
    await this.sendDeadLetters(producer, deadLetters);
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
    await this.serialized('a punctuation', async () => {
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
    }).catch(() => undefined);
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = error;
    this.stop(error);
    this.options.logger.error('stream processing stopped', { error });
    this.options.onFatal(error);
  }
}

/** An operation on the transaction ran longer than stallTimeoutMs (see StreamsOptions). */
export class StreamsStalledError extends ShopstreamError {
  constructor(what: string, runningMs: number) {
    super('STREAMS_STALLED', `${what} did not finish within ${runningMs} ms: the instance stops so that a new one can go on`);
  }
}

/** A commit was asked until the commit timeout and librdkafka never reported its outcome. */
export class CommitOutcomeUnknownError extends ShopstreamError {
  constructor(cause: unknown) {
    super('STREAMS_COMMIT_OUTCOME_UNKNOWN', `the outcome of a transaction commit stayed unknown: ${errorMessage(cause)}`, { cause });
  }
}

/**
 * What a failure means for the instance: `abortable` (abort the transaction, process again after
 * a backoff) for Kafka client errors that are not fatal and for transient failures of anything
 * else; `fatal` for a stage whose handler said fail, a fenced or fatally failed producer, and
 * anything unexpected (a bug is not retried in a loop: the supervisor replaces the instance).
 */
function failureKind(error: unknown): 'abortable' | 'fatal' {
  if (error instanceof StreamsStageError || error instanceof CommitOutcomeUnknownError) return 'fatal';
  if (error instanceof TransactionError) return error.kind === 'fatal' ? 'fatal' : 'abortable';
  const e = error as { fatal?: boolean; message?: string; name?: string; code?: unknown } | null;
  if (e?.fatal === true || /fenced/i.test(e?.message ?? '')) return 'fatal';
  if (isRetriable(error)) return 'abortable';
  const kafkaError = typeof e?.name === 'string' && e.name.startsWith('KafkaJS') && typeof e.code === 'number';
  // A transactional-state error of the client itself (ERR__STATE) means its state is not what this instance thinks.
  return kafkaError && e.code !== -172 ? 'abortable' : 'fatal';
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
