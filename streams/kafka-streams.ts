import { errorMessage } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { noopMetrics, type Metrics } from '../metrics/metrics.js';
import type { Consumer, Kafka, Producer } from '../kafka/client.js';
import type { FailureHandler, Headers } from './api.js';
import { StreamTask, type RawRecord, type SinkOutput } from './internal/task.js';
import type { Topology } from './topology.js';

export interface StreamsOptions {
  /** Consumer group and transactional-id prefix. Required. */
  applicationId: string;
  /** Dead-letter topic for records a handler sends there. Default: none (dead-letter acts as fail). */
  deadLetterTopic: string | undefined;
  /** Failure policy per stage (deserialize, process, produce). Default: fail. */
  onFailure: FailureHandler;
  /** Most records handed to one batch. Default 2,000. */
  maxBatchSize: number;
  /** Punctuation check interval. Default 1,000 ms. */
  punctuateIntervalMs: number;
  metrics: Metrics;
  logger: Logger;
}

export const DEFAULT_STREAMS_OPTIONS: Omit<StreamsOptions, 'applicationId'> = {
  deadLetterTopic: undefined,
  onFailure: () => 'fail',
  maxBatchSize: 2_000,
  punctuateIntervalMs: 1_000,
  metrics: noopMetrics,
  logger: createLogger('streams'),
};

/**
 * Runs a Topology against Kafka. Per batch of a partition: deserialize → process → produce the
 * outputs (idempotent producer, awaited acks) → commit the consumed offsets. Processing is
 * at-least-once: after a crash between produce and commit, a batch is processed again.
 *
 * Lifecycle: `start` joins the consumer group and returns once consuming; `close` stops
 * consuming, lets the batch in flight finish, closes processors and stores, disconnects.
 */
export class KafkaStreams {
  private readonly options: StreamsOptions;
  private readonly task: StreamTask;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private punctuation: NodeJS.Timeout | undefined;
  private failure: unknown;
  private readonly processed;

  constructor(
    private readonly topology: Topology,
    kafka: Kafka,
    options: Partial<StreamsOptions> & { applicationId: string },
  ) {
    this.options = { ...DEFAULT_STREAMS_OPTIONS, ...options };
    this.task = new StreamTask(topology, this.options.onFailure);
    this.consumer = kafka.consumer({
      kafkaJS: { groupId: this.options.applicationId, fromBeginning: true, autoCommit: false },
      'js.consumer.max.batch.size': this.options.maxBatchSize,
      'fetch.wait.max.ms': 10,
    });
    this.producer = kafka.producer({ 'linger.ms': 2, 'enable.idempotence': true, acks: -1, 'compression.type': 'lz4' });
    this.processed = this.options.metrics.counter({
      name: 'shopstream_streams_records_processed_total',
      help: 'Records processed by the stream topology',
      labelNames: ['topic'],
    });
  }

  async start(): Promise<void> {
    this.task.init();
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topology.sourceTopics() });
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        if (this.failure) return;
        try {
          await this.processBatch(batch.topic, batch.partition, batch.messages);
        } catch (error) {
          this.failure = error;
          this.options.logger.error('stream processing failed; stopping', { error: errorMessage(error) });
          throw error;
        }
      },
    });
    this.punctuation = setInterval(() => void this.punctuate(), this.options.punctuateIntervalMs);
  }

  async close(): Promise<void> {
    clearInterval(this.punctuation);
    await this.consumer.disconnect().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    this.task.close();
  }

  private async processBatch(
    topic: string,
    partition: number,
    messages: { key: Buffer | null; value: Buffer | null; offset: string; timestamp: string; headers?: unknown }[],
  ): Promise<void> {
    if (messages.length === 0) return;
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
      const result = await this.task.processRaw(raw);
      outputs.push(...result.outputs);
      if (result.deadLetter) deadLetters.push({ raw, ...result.deadLetter });
    }
    await this.produce(outputs);
    await this.sendDeadLetters(deadLetters);
    const last = messages[messages.length - 1]!.offset;
    await this.consumer.commitOffsets([{ topic, partition, offset: String(BigInt(last) + 1n) }]);
    this.processed.inc({ topic }, messages.length);
  }

  private async produce(outputs: SinkOutput[]): Promise<void> {
    const byTopic = new Map<string, { key: Buffer | null; value: Buffer; headers: Headers }[]>();
    for (const { sink, record } of outputs) {
      let key: Buffer | null;
      let value: Buffer;
      try {
        key = record.key === null || record.key === undefined ? null : await sink.key.serialize(sink.topic, record.key, record.headers);
        value = await sink.value.serialize(sink.topic, record.value, record.headers);
      } catch (error) {
        const response = this.options.onFailure({ stage: 'produce', error });
        if (response === 'continue') continue;
        throw error;
      }
      const list = byTopic.get(sink.topic) ?? [];
      list.push({ key, value, headers: record.headers });
      byTopic.set(sink.topic, list);
    }
    await Promise.all([...byTopic].map(([topic, messages]) => this.producer.send({ topic, messages })));
  }

  private async sendDeadLetters(entries: { raw: RawRecord; error: unknown; stage: string }[]): Promise<void> {
    if (entries.length === 0) return;
    const topic = this.options.deadLetterTopic;
    if (!topic) throw new Error(`a record was sent to the dead-letter topic, but none is configured: ${errorMessage(entries[0]!.error)}`);
    await this.producer.send({
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

  private async punctuate(): Promise<void> {
    if (this.failure) return;
    try {
      await this.produce(await this.task.punctuate());
    } catch (error) {
      this.options.logger.warn('punctuation failed', { error: errorMessage(error) });
    }
  }
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
