import { describe, expect, it } from 'vitest';
import { newClusterId } from '../../stack/kafka.js';

describe('KRaft cluster ids', () => {
  it('are 22 base64url characters and never start with "-" (the storage tool would read an option)', () => {
    // One id in 64 would start with '-' if drawn plainly: 4,000 draws make a miss all but certain.
    for (let i = 0; i < 4_000; i++) {
      const id = newClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });
});
