import type { GlobalStoreSpec, ProcessorSupplier, Serde, StoreBuilder } from './api.js';

export interface SourceNode {
  kind: 'source';
  name: string;
  topics: string[];
  key: Serde<unknown>;
  value: Serde<unknown>;
  children: string[];
}
export interface ProcessorNode {
  kind: 'processor';
  name: string;
  supplier: ProcessorSupplier<any, any, any, any>;
  children: string[];
  stores: string[];
}
export interface SinkNode {
  kind: 'sink';
  name: string;
  topic: string;
  key: Serde<unknown>;
  value: Serde<unknown>;
}
export type TopologyNode = SourceNode | ProcessorNode | SinkNode;

/**
 * The graph of a stream application: sources (topics in), processors, sinks (topics out) and the
 * state stores connected to processors. Built once, then run by KafkaStreams or, in unit tests,
 * by TopologyTestDriver.
 */
export class Topology {
  readonly nodes = new Map<string, TopologyNode>();
  readonly stores = new Map<string, StoreBuilder>();
  readonly globalStores = new Map<string, GlobalStoreSpec<any>>();

  addSource<K, V>(name: string, topics: string[], serdes: { key: Serde<K>; value: Serde<V> }): this {
    for (const topic of topics) {
      if (this.sourceFor(topic)) throw new Error(`topic ${topic} already has a source`);
    }
    return this.add({ kind: 'source', name, topics, key: serdes.key as Serde<unknown>, value: serdes.value as Serde<unknown>, children: [] }, []);
  }

  addProcessor(name: string, supplier: ProcessorSupplier<any, any, any, any>, ...parents: string[]): this {
    return this.add({ kind: 'processor', name, supplier, children: [], stores: [] }, parents);
  }

  addSink<K, V>(name: string, topic: string, serdes: { key: Serde<K>; value: Serde<V> }, ...parents: string[]): this {
    return this.add({ kind: 'sink', name, topic, key: serdes.key as Serde<unknown>, value: serdes.value as Serde<unknown> }, parents);
  }

  addStateStore(builder: StoreBuilder, ...processorNames: string[]): this {
    if (this.stores.has(builder.name)) throw new Error(`store ${builder.name} is already defined`);
    this.stores.set(builder.name, builder);
    for (const processorName of processorNames) {
      const node = this.nodes.get(processorName);
      if (node?.kind !== 'processor') throw new Error(`store ${builder.name}: ${processorName} is not a processor`);
      node.stores.push(builder.name);
    }
    return this;
  }

  /** A read-only store every task can read, loaded from a topic (see GlobalStoreSpec). */
  addGlobalStore<V>(spec: GlobalStoreSpec<V>): this {
    if (this.stores.has(spec.name) || this.globalStores.has(spec.name)) throw new Error(`store ${spec.name} is already defined`);
    if (this.sourceFor(spec.topic)) throw new Error(`topic ${spec.topic} already has a source`);
    this.globalStores.set(spec.name, spec as GlobalStoreSpec<any>);
    return this;
  }

  sourceTopics(): string[] {
    return [...this.nodes.values()].flatMap((node) => (node.kind === 'source' ? node.topics : []));
  }

  sinkTopics(): string[] {
    return [...this.nodes.values()].flatMap((node) => (node.kind === 'sink' ? [node.topic] : []));
  }

  sourceFor(topic: string): SourceNode | undefined {
    return [...this.nodes.values()].find((node): node is SourceNode => node.kind === 'source' && node.topics.includes(topic));
  }

  describe(): string {
    const globals = [...this.globalStores.values()].map((g) => `GlobalStore: ${g.name} (topic: ${g.topic})`);
    return [...globals, ...[...this.nodes.values()]
      .map((node) => {
        if (node.kind === 'source') return `Source: ${node.name} (topics: ${node.topics.join(', ')}) --> ${node.children.join(', ') || 'none'}`;
        if (node.kind === 'sink') return `Sink: ${node.name} (topic: ${node.topic})`;
        return `Processor: ${node.name} (stores: ${node.stores.join(', ') || 'none'}) --> ${node.children.join(', ') || 'none'}`;
      })]
      .join('\n');
  }

  private add(node: TopologyNode, parents: string[]): this {
    if (this.nodes.has(node.name)) throw new Error(`a node named ${node.name} already exists`);
    if (node.kind !== 'source' && parents.length === 0) throw new Error(`${node.name} needs at least one parent`);
    for (const parentName of parents) {
      const parent = this.nodes.get(parentName);
      if (!parent) throw new Error(`${node.name}: unknown parent ${parentName}`);
      if (parent.kind === 'sink') throw new Error(`${node.name}: a sink (${parentName}) cannot have children`);
      parent.children.push(node.name);
    }
    this.nodes.set(node.name, node);
    return this;
  }
}
