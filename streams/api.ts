/**
 * Public API of shopstream's Kafka-Streams-style runtime. A Topology wires sources, Processors
 * and sinks; Processors see one record at a time through `process` and emit with
 * `ProcessorContext.forward`; StateStores hold their state; Punctuators run on a schedule.
 *
 * Lifecycle of a Processor: `init(context)` once before the first record, `process(record)` for
 * each record in offset order per partition, `close()` once on shutdown. `forward` is
 * synchronous: the children process the record before `forward` returns.
 */
export type Headers = Record<string, string>;

export interface StreamRecord<K, V> {
  key: K;
  value: V;
  /** Epoch milliseconds. */
  timestamp: number;
  headers: Headers;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: string;
}

export interface Cancellable {
  cancel(): void;
}

export type Punctuator = (timestamp: number) => void | Promise<void>;

export interface ProcessorContext<KOut = unknown, VOut = unknown> {
  /** Sends a record to every child, or to the named child only. */
  forward(record: StreamRecord<KOut, VOut>, childName?: string): void;
  getStateStore<S extends StateStore>(name: string): S;
  /** Runs `punctuator` every `intervalMs` of wall-clock time until cancelled or closed. */
  schedule(intervalMs: number, punctuator: Punctuator): Cancellable;
  /** Where the record being processed came from; undefined inside a punctuator. */
  recordMetadata(): RecordMetadata | undefined;
}

export interface Processor<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> {
  init?(context: ProcessorContext<KOut, VOut>): void;
  process(record: StreamRecord<KIn, VIn>): void;
  close?(): void;
}

export type ProcessorSupplier<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> = () => Processor<KIn, VIn, KOut, VOut>;

export interface StateStore {
  readonly name: string;
  close?(): void;
}

export interface KeyValueStore<K, V> extends StateStore {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  delete(key: K): void;
  all(): IterableIterator<[K, V]>;
  readonly size: number;
}

export interface StoreBuilder<S extends StateStore = StateStore> {
  readonly name: string;
  /** Changes go to the compacted changelog topic `<applicationId>-<name>-changelog`. */
  readonly logged: boolean;
  build(): S;
}

/**
 * A store every instance holds whole, loaded from `topic` (all partitions) before processing
 * starts and kept up to date while it runs; processors may only read it. For small lookup tables
 * (users, products) that are not co-partitioned with the stream.
 */
export interface GlobalStoreSpec<V = unknown> {
  name: string;
  topic: string;
  valueSerde: Serde<V>;
  /** Applies one record of the topic to the store (the topic is the store's changelog). */
  update(store: KeyValueStore<string, unknown>, key: string, value: V): void;
}

export interface Serde<T> {
  serialize(topic: string, value: T, headers: Headers): Buffer | Promise<Buffer>;
  deserialize(topic: string, data: Buffer | null, headers: Headers): T | Promise<T>;
}

/**
 * What to do with a record that failed in a stage: skip it (`continue`), stop the application
 * (`fail`), or send the original record with the error to the dead-letter topic and go on.
 */
export type FailureResponse = 'continue' | 'fail' | 'dead-letter';

export interface FailureContext {
  stage: 'deserialize' | 'process' | 'produce';
  error: unknown;
  source?: RecordMetadata;
}

export type FailureHandler = (context: FailureContext) => FailureResponse;
