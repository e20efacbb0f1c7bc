import { describe, expect, it } from 'vitest';
import { assertTransition, canTransition, isCounted, ORDER_STATUSES } from '../../orders/model.js';
import { ConflictError } from '../../core/errors.js';

describe('order status machine', () => {
  const allowed = new Set([
    'PENDING>PAID',
    'PAID>SHIPPED',
    'SHIPPED>COMPLETED',
    'PENDING>CANCELLED',
    'PAID>CANCELLED',
    'PAID>REFUNDED',
    'SHIPPED>REFUNDED',
    'COMPLETED>REFUNDED',
  ]);

  it('allows exactly the transitions of the spec', () => {
    for (const from of ORDER_STATUSES) {
      for (const to of ORDER_STATUSES) {
        expect(canTransition(from, to), `${from}>${to}`).toBe(allowed.has(`${from}>${to}`));
      }
    }
  });

  it('reports a forbidden transition as a conflict with a stable code', () => {
    expect(() => assertTransition('CANCELLED', 'PAID')).toThrow(ConflictError);
    try {
      assertTransition('SHIPPED', 'PENDING');
    } catch (error) {
      expect((error as ConflictError).code).toBe('INVALID_TRANSITION');
    }
  });

  it('counts orders that are neither deleted, cancelled nor refunded', () => {
    expect(isCounted({ status: 'PAID', isDeleted: false })).toBe(true);
    expect(isCounted({ status: 'PAID', isDeleted: true })).toBe(false);
    expect(isCounted({ status: 'CANCELLED', isDeleted: false })).toBe(false);
    expect(isCounted({ status: 'REFUNDED', isDeleted: false })).toBe(false);
  });
});
