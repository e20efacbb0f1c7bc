import { describe, expect, it } from 'vitest';
import { OrderBook } from '../../load/order-book.js';
import { classify } from '../../load/operations.js';
import { seededRandom } from '../../load/random.js';

const order = (id: string) => ({ id, status: 'PENDING' as const, total: '10.00' });

describe('load order book', () => {
  it('counts every order by status and lends each to one request at a time', () => {
    const book = new OrderBook(100, seededRandom(1));
    for (let i = 0; i < 10; i++) book.add(order(`o${i}`));
    const taken = [book.take(['PENDING']), book.take(['PENDING'])];
    expect(new Set(taken.map((o) => o!.id)).size).toBe(2);
    expect(book.free('PENDING')).toBe(8);
    book.settle(taken[0]!, 'PAID');
    book.markDeleted(taken[1]!);
    expect(book.byStatus).toMatchObject({ PENDING: 9, PAID: 1 });
    expect(book.free('PAID')).toBe(1);
    expect(book.free('PENDING')).toBe(8);
    expect(book.deleted).toBe(1);
    expect(book.take(['SHIPPED', 'COMPLETED'])).toBeUndefined();
    const paid = book.take(['SHIPPED', 'PAID'])!;
    expect(paid.id).toBe(taken[0]!.id);
    book.lose(paid);
    expect(book.uncertain).toBe(1);
    expect(book.created).toBe(10);
  });

  it('draws uniformly over the statuses asked for', () => {
    const book = new OrderBook(1_000, seededRandom(2));
    for (let i = 0; i < 30; i++) book.add(order(`p${i}`));
    for (let i = 0; i < 10; i++) book.settle(book.take(['PENDING'])!, 'PAID');
    let paid = 0;
    for (let i = 0; i < 4_000; i++) {
      const o = book.take(['PENDING', 'PAID'])!;
      if (o.status === 'PAID') paid++;
      book.release(o);
    }
    expect(paid / 4_000).toBeGreaterThan(0.3);
    expect(paid / 4_000).toBeLessThan(0.37);
  });

  it('stays within its capacity per status and keeps counting the orders it drops', () => {
    const book = new OrderBook(5, seededRandom(3));
    for (let i = 0; i < 50; i++) book.add(order(`c${i}`));
    expect(book.free('PENDING')).toBe(5);
    expect(book.byStatus.PENDING).toBe(50);
  });
});

describe('load outcomes', () => {
  it('counts refusals of state apart from errors', () => {
    expect(classify(201)).toBe('ok');
    expect(classify(204)).toBe('ok');
    for (const status of [404, 409, 422, 429]) expect(classify(status)).toBe('refused');
    for (const status of [400, 401, 403, 413, 500, 503]) expect(classify(status)).toBe('error');
    expect(classify(409, 'refused')).toBe('refused');
    expect(classify(200, 'refused')).toBe('error');
  });
});
