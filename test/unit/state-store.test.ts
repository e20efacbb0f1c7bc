import { describe, expect, it } from 'vitest';
import { InMemoryKeyValueStore } from '../../streams/state.js';

describe('transactional in-memory store', () => {
  it('shows pending writes to reads, applies them on commit and hands them out', () => {
    const store = new InMemoryKeyValueStore<number>('s', true);
    store.restore('a', 1);
    store.put('b', 2);
    store.delete('a');
    expect(store.get('a')).toBeUndefined();
    expect(store.get('b')).toBe(2);
    expect(store.size).toBe(1);
    expect(store.pendingChanges()).toEqual([
      { key: 'b', value: 2 },
      { key: 'a', value: null },
    ]);
    expect(store.commit()).toHaveLength(2);
    expect([...store.all()]).toEqual([['b', 2]]);
    expect(store.pendingChanges()).toEqual([]);
  });

  it('forgets pending writes on abort: the store is what the changelog has', () => {
    const store = new InMemoryKeyValueStore<number>('s', true);
    store.restore('a', 1);
    store.put('a', 5);
    store.put('c', 3);
    store.abort();
    expect(store.get('a')).toBe(1);
    expect(store.get('c')).toBeUndefined();
    expect(store.size).toBe(1);
  });
});
