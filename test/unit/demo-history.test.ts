import { describe, expect, it } from 'vitest';
import { planHistory } from '../../demo/history.js';
import { canTransition, type OrderStatus } from '../../orders/model.js';

describe('demo history plan', () => {
  const now = Date.parse('2026-12-03T14:20:00Z');
  const plan = planHistory({ days: 21, ordersPerDay: 18, customers: 30, seed: 13 }, now);
  const DAY = 86_400_000_000;

  it('spreads orders over the past days and hours, never in the future', () => {
    const placed = plan.map((o) => o.steps[0]!.at);
    const first = Date.parse('2026-11-13T00:00:00Z') * 1000;
    expect(Math.min(...placed)).toBeGreaterThanOrEqual(first);
    for (const order of plan) for (const step of order.steps) expect(step.at).toBeLessThan(now * 1000);
    const days = new Set(placed.map((at) => Math.floor(at / DAY)));
    expect(days.size).toBe(21);
    expect(new Set(placed.map((at) => new Date(at / 1000).getUTCHours())).size).toBeGreaterThanOrEqual(20);
    expect(plan.length).toBeGreaterThan(21 * 10);
    expect(plan.length).toBeLessThan(21 * 30);
  });

  it('gives every order a lifecycle the status machine allows, in time order', () => {
    const finals = new Map<string, number>();
    for (const order of plan) {
      let status: OrderStatus = 'PENDING';
      expect(order.steps[0]!.action).toBe('place');
      for (const [i, step] of order.steps.entries()) {
        if (i > 0) expect(step.at).toBeGreaterThan(order.steps[i - 1]!.at);
        if (step.action === 'place') continue;
        const next: OrderStatus = step.action === 'pay' ? 'PAID' : step.status;
        expect(canTransition(status, next)).toBe(true);
        status = next;
      }
      finals.set(status, (finals.get(status) ?? 0) + 1);
      expect(order.items.length).toBeGreaterThan(0);
      expect(new Set(order.items.map((i) => i.productId)).size).toBe(order.items.length);
    }
    // Old orders are done, recent ones still open; a few are cancelled or refunded.
    expect(finals.get('COMPLETED')! / plan.length).toBeGreaterThan(0.5);
    expect(finals.get('CANCELLED')).toBeGreaterThan(0);
    expect(finals.get('REFUNDED')).toBeGreaterThan(0);
    expect((finals.get('PAID') ?? 0) + (finals.get('SHIPPED') ?? 0)).toBeGreaterThan(0);
  });

  it('is the same for the same seed and clock', () => {
    expect(planHistory({ days: 21, ordersPerDay: 18, customers: 30, seed: 13 }, now)).toEqual(plan);
    expect(planHistory({ days: 21, ordersPerDay: 18, customers: 30, seed: 14 }, now)).not.toEqual(plan);
  });
});
