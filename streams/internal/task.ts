import { isRetriable } from '../../core/errors.js';
import type { Cancellable, FailureHandler, Headers, Processor, ProcessorContext, RecordMetadata, StateStore, StreamRecord } from '../api.js';
import { InMemoryKeyValueStore, type StoreChange } from '../state.js';
import type { SinkNode, SourceNode, Topology } from '../topology.js';

/** A consumed record before deserialization. */
export interface RawRecord extends RecordMetadata {
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
  timestamp: number;
}

/** A record that reached a sink, before serialization. */
export interface SinkOutput {
  sink: SinkNode;
  record: StreamRecord<unknown, unknown>;
  /** The consumed record it came from (none for a punctuator's). */
  source?: RawRecord;
}

export interface TaskResult {
  outputs: SinkOutput[];
  /** The record was given up on and the handler asked for the dead-letter topic. */
  deadLetter?: { error: unknown; stage: 'deserialize' | 'process' };
}

interface Scheduled {
  intervalMs: number;
  next: number;
  punctuator: (timestamp: number) => void | Promise<void>;
  cancelled: boolean;
}

/** Raised when a stage's handler answered `fail`: the application must stop without committing. */
export class StreamsStageError extends Error {
  readonly code = 'STREAMS_STAGE_FAILED';
  readonly retriable = false;
  constructor(readonly stage: string, cause: unknown) {
    super(`${stage} failed: ${(cause as Error)?.message ?? cause}`, { cause });
  }
}

/**
 * Runs records through one instance of a topology (one per input partition): its processors and
 * state stores. Used by the Kafka runtime and by the test driver. A record's outputs are
 * all-or-nothing: if a processor throws, whatever it forwarded for that record is dropped.
 *
 * Store writes stay pending until `commitStores` (after the Kafka transaction holding the
 * outputs and the changelog records committed) or `abortStores` (the transaction aborted), so
 * the stores never run ahead of what Kafka has.
 */
export class StreamTask {
  private readonly processors = new Map<string, Processor<any, any, any, any>>();
  private readonly stores = new Map<string, StateStore>();
  private readonly scheduled: Scheduled[] = [];
  private current: RecordMetadata | undefined;
  private collected: SinkOutput[] = [];

  constructor(
    readonly topology: Topology,
    private readonly onFailure: FailureHandler,
    private readonly clock: () => number = Date.now,
    /** Global stores, shared by every task of the instance (read-only for processors). */
    private readonly globalStores: ReadonlyMap<string, StateStore> = new Map(),
  ) {}

  /** Builds the stores (empty): restore them before `init` when they are logged. */
  createStores(): void {
    for (const [name, builder] of this.topology.stores) this.stores.set(name, builder.build());
  }

  /** The task's own stores (logged ones are restored from their changelogs). */
  get localStores(): ReadonlyMap<string, StateStore> {
    return this.stores;
  }

  init(): void {
    if (this.stores.size === 0) this.createStores();
    for (const node of this.topology.nodes.values()) {
      if (node.kind !== 'processor') continue;
      const processor = node.supplier();
      this.processors.set(node.name, processor);
      processor.init?.(this.contextFor(node.name, node.children, node.stores));
    }
  }

  getStateStore<S extends StateStore>(name: string): S {
    const store = this.stores.get(name) ?? this.globalStores.get(name);
    if (!store) throw new Error(`no state store named ${name}`);
    return store as S;
  }

  /** Makes pending store writes durable; returns the changes of logged stores, per store. */
  commitStores(): Map<string, StoreChange[]> {
    const changes = new Map<string, StoreChange[]>();
    for (const [name, store] of this.stores) {
      if (!(store instanceof InMemoryKeyValueStore)) continue;
      const committed = store.commit();
      if (store.logged && committed.length > 0) changes.set(name, committed);
    }
    return changes;
  }

  abortStores(): void {
    for (const store of this.stores.values()) if (store instanceof InMemoryKeyValueStore) store.abort();
  }

  /** Deserializes with the source's serdes, then processes. */
  async processRaw(raw: RawRecord): Promise<TaskResult> {
    const source = this.topology.sourceFor(raw.topic);
    if (!source) throw new Error(`no source reads topic ${raw.topic}`);
    let key: unknown;
    let value: unknown;
    try {
      key = await source.key.deserialize(raw.topic, raw.key, raw.headers);
      value = await source.value.deserialize(raw.topic, raw.value, raw.headers);
    } catch (error) {
      return this.fail('deserialize', error, raw);
    }
    return this.process(source, { key, value, timestamp: raw.timestamp, headers: raw.headers }, raw);
  }

  /** Processes an already deserialized record arriving at `source`. */
  process(source: SourceNode, record: StreamRecord<unknown, unknown>, metadata: RecordMetadata): TaskResult {
    this.current = metadata;
    this.collected = [];
    try {
      for (const child of source.children) this.dispatch(child, record);
      return { outputs: this.collected };
    } catch (error) {
      return this.fail('process', error, metadata);
    } finally {
      this.current = undefined;
      this.collected = [];
    }
  }

  /** Runs the punctuators that are due; returns what they forwarded. */
  async punctuate(now = this.clock()): Promise<SinkOutput[]> {
    const outputs: SinkOutput[] = [];
    for (const entry of this.scheduled) {
      if (entry.cancelled || now < entry.next) continue;
      entry.next = now + entry.intervalMs;
      this.collected = [];
      await entry.punctuator(now);
      outputs.push(...this.collected);
      this.collected = [];
    }
    return outputs;
  }

  close(): void {
    for (const processor of this.processors.values()) processor.close?.();
    for (const store of this.stores.values()) store.close?.();
    this.scheduled.length = 0;
  }

  /**
   * A record's failure goes to the stage's handler, unless it is transient (a registry that
   * cannot be reached while a schema is fetched): that one is thrown, so the runtime aborts the
   * transaction and processes the record again after a backoff.
   */
  private fail(stage: 'deserialize' | 'process', error: unknown, source: RecordMetadata): TaskResult {
    if (isRetriable(error)) throw error;
    const response = this.onFailure({ stage, error, source });
    if (response === 'fail') throw new StreamsStageError(stage, error);
    return response === 'dead-letter' ? { outputs: [], deadLetter: { error, stage } } : { outputs: [] };
  }

  private dispatch(nodeName: string, record: StreamRecord<unknown, unknown>): void {
    const node = this.topology.nodes.get(nodeName)!;
    if (node.kind === 'sink') this.collected.push({ sink: node, record });
    else if (node.kind === 'processor') this.processors.get(nodeName)!.process(record);
  }

  private contextFor(name: string, children: string[], stores: string[]): ProcessorContext {
    return {
      forward: (record, childName) => {
        if (childName !== undefined && !children.includes(childName)) throw new Error(`${name} has no child ${childName}`);
        for (const child of childName === undefined ? children : [childName]) this.dispatch(child, record);
      },
      getStateStore: <S extends StateStore>(storeName: string) => {
        if (!stores.includes(storeName) && !this.globalStores.has(storeName)) throw new Error(`processor ${name} is not connected to store ${storeName}`);
        return this.getStateStore<S>(storeName);
      },
      schedule: (intervalMs, punctuator): Cancellable => {
        const entry: Scheduled = { intervalMs, next: this.clock() + intervalMs, punctuator, cancelled: false };
        this.scheduled.push(entry);
        return { cancel: () => void (entry.cancelled = true) };
      },
      recordMetadata: () => this.current,
    };
  }
}
