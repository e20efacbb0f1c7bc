import type { KeyValueStore, StoreBuilder } from './api.js';

/** A key-value store held in memory. */
export class InMemoryKeyValueStore<K, V> implements KeyValueStore<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly name: string) {}
  get(key: K): V | undefined {
    return this.map.get(key);
  }
  put(key: K, value: V): void {
    this.map.set(key, value);
  }
  delete(key: K): void {
    this.map.delete(key);
  }
  all(): IterableIterator<[K, V]> {
    return this.map.entries();
  }
  get size(): number {
    return this.map.size;
  }
}

export function inMemoryKeyValueStore<K, V>(name: string): StoreBuilder<KeyValueStore<K, V>> {
  return { name, build: () => new InMemoryKeyValueStore<K, V>(name) };
}
