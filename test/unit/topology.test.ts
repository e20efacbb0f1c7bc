import { describe, expect, it } from 'vitest';
import type { Processor, ProcessorContext, Serde, StreamRecord } from '../../streams/api.js';
import { keyValueStore } from '../../streams/state.js';
import { TopologyTestDriver } from '../../streams/test-driver.js';
import { Topology } from '../../streams/topology.js';

const serde: Serde<unknown> = { serialize: () => Buffer.alloc(0), deserialize: () => null };
const serdes = { key: serde, value: serde };

class Upper implements Processor<string, string, string, string> {
  private context!: ProcessorContext<string, string>;
  init(context: ProcessorContext<string, string>) {
    this.context = context;
    context.schedule(1_000, (now) => context.forward({ key: 'tick', value: String(now), timestamp: now, headers: {} }));
  }
  process(record: StreamRecord<string, string>) {
    if (record.value === 'boom') throw new Error('boom');
    this.context.forward({ ...record, value: record.value.toUpperCase() });
  }
}

describe('Topology', () => {
  it('rejects a graph it cannot run', () => {
    const t = new Topology().addSource('in', ['a'], serdes);
    expect(() => t.addSource('in2', ['a'], serdes)).toThrow(/already has a source/);
    expect(() => t.addProcessor('p', () => new Upper(), 'missing')).toThrow(/unknown parent/);
    expect(() => t.addProcessor('p', () => new Upper())).toThrow(/needs at least one parent/);
    t.addSink('out', 'b', serdes, 'in');
    expect(() => t.addProcessor('p2', () => new Upper(), 'out')).toThrow(/cannot have children/);
    expect(() => t.addStateStore(keyValueStore('s'), 'out')).toThrow(/not a processor/);
  });

  it('describes itself', () => {
    const t = new Topology().addSource('in', ['a'], serdes).addProcessor('p', () => new Upper(), 'in').addSink('out', 'b', serdes, 'p');
    expect(t.describe()).toBe('Source: in (topics: a) --> p\nProcessor: p (stores: none) --> out\nSink: out (topic: b)');
    expect(t.sourceTopics()).toEqual(['a']);
    expect(t.sinkTopics()).toEqual(['b']);
  });
});

describe('TopologyTestDriver', () => {
  const topology = () => new Topology().addSource('in', ['a'], serdes).addProcessor('p', () => new Upper(), 'in').addSink('out', 'b', serdes, 'p');

  it('runs records through processors to sinks', () => {
    const d = new TopologyTestDriver(topology());
    d.pipeInput('a', 'k', 'hello');
    expect(d.readOutput('b').map((r) => r.value)).toEqual(['HELLO']);
    expect(d.readOutput('b')).toEqual([]);
  });

  it('fires punctuators only when wall-clock time advances past them', async () => {
    const d = new TopologyTestDriver(topology(), { startTimeMs: 0 });
    await d.advanceWallClockTime(999);
    expect(d.readOutput('b')).toEqual([]);
    await d.advanceWallClockTime(1);
    expect(d.readOutput('b').map((r) => r.value)).toEqual(['1000']);
  });

  it('applies the processing failure policy: fail stops, continue skips the record', () => {
    expect(() => new TopologyTestDriver(topology()).pipeInput('a', 'k', 'boom')).toThrow(/process failed: boom/);
    const skipping = new TopologyTestDriver(topology(), { onFailure: () => 'continue' });
    skipping.pipeInput('a', 'k', 'boom');
    skipping.pipeInput('a', 'k', 'ok');
    expect(skipping.readOutput('b').map((r) => r.value)).toEqual(['OK']);
  });
});
