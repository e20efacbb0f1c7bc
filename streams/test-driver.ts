import type { FailureHandler, Headers, StateStore, StreamRecord } from './api.js';
import { StreamTask } from './internal/task.js';
import { InMemoryKeyValueStore } from './state.js';
import type { Topology } from './topology.js';

export interface TestOutput<K = unknown, V = unknown> extends StreamRecord<K, V> {
  topic: string;
}

/**
 * Runs a topology in memory, without a broker, for unit tests of processors. Records are piped in
 * and read out as objects: serdes are bypassed, so tests need no registry. Records piped into a
 * global store's topic update that store. Store writes are committed after each record, as the
 * runtime commits them after each transaction. Wall-clock time is the driver's own and only moves
 * with `advanceWallClockTime`.
 */
export class TopologyTestDriver {
  private readonly task: StreamTask;
  private readonly globals = new Map<string, InMemoryKeyValueStore<unknown>>();
  private readonly outputs: TestOutput[] = [];
  private readonly offsets = new Map<string, number>();
  private now: number;

  constructor(
    private readonly topology: Topology,
    options: { startTimeMs?: number; onFailure?: FailureHandler } = {},
  ) {
    this.now = options.startTimeMs ?? 0;
    for (const spec of topology.globalStores.values()) this.globals.set(spec.name, new InMemoryKeyValueStore(spec.name, false));
    this.task = new StreamTask(topology, options.onFailure ?? (() => 'fail'), () => this.now, this.globals);
    this.task.init();
  }

  pipeInput<K, V>(topic: string, key: K, value: V, headers: Headers = {}, timestamp = this.now): void {
    const global = [...this.topology.globalStores.values()].find((spec) => spec.topic === topic);
    if (global) {
      const store = this.globals.get(global.name)!;
      global.update(store, String(key), value);
      store.commit();
      return;
    }
    const source = this.topology.sourceFor(topic);
    if (!source) throw new Error(`no source reads topic ${topic}`);
    const offset = this.offsets.get(topic) ?? 0;
    this.offsets.set(topic, offset + 1);
    const result = this.task.process(source, { key, value, headers, timestamp }, { topic, partition: 0, offset: String(offset) });
    this.task.commitStores();
    this.collect(result.outputs);
  }

  async advanceWallClockTime(ms: number): Promise<void> {
    this.now += ms;
    this.collect(await this.task.punctuate(this.now));
    this.task.commitStores();
  }

  /** Removes and returns what has been written to `topic` so far, oldest first. */
  readOutput<K = unknown, V = unknown>(topic: string): TestOutput<K, V>[] {
    const taken: TestOutput<K, V>[] = [];
    for (let i = 0; i < this.outputs.length; ) {
      if (this.outputs[i]!.topic === topic) taken.push(this.outputs.splice(i, 1)[0] as TestOutput<K, V>);
      else i++;
    }
    return taken;
  }

  getStateStore<S extends StateStore>(name: string): S {
    return this.task.getStateStore<S>(name);
  }

  close(): void {
    this.task.close();
  }

  private collect(outputs: { sink: { topic: string }; record: StreamRecord<unknown, unknown> }[]): void {
    for (const { sink, record } of outputs) this.outputs.push({ topic: sink.topic, ...record });
  }
}
