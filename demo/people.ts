/**
 * Who and what the demo orders name: the demo catalog and users of orders/demo-seed.ts (fixed
 * ids), and the demo's own customers (ids 20000000-0000-4000-8000-0000000000NN).
 */
const id = (prefix: string, n: number) => `${prefix}-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** The ten demo products, with how often each is bought (relative). */
export const DEMO_PRODUCTS = Array.from({ length: 10 }, (_, i) => id('00000000', i + 1));
export const PRODUCT_POPULARITY = [6, 9, 2, 3, 4, 5, 12, 3, 5, 4];

/** The five users of orders/demo-seed.ts. */
export const SEEDED_USERS = Array.from({ length: 5 }, (_, i) => id('10000000', i + 1));

const FIRST = ['Maya', 'Noah', 'Lena', 'Omar', 'Ines', 'Kenji', 'Sofia', 'Liam', 'Amara', 'Jonas', 'Priya', 'Mateo', 'Hana', 'Elias', 'Zoe', 'Ravi', 'Clara', 'Tariq', 'Yuki', 'Felix'];
const LAST = ['Okafor', 'Schmidt', 'Garcia', 'Nguyen', 'Rossi', 'Kowalski', 'Haddad', 'Silva', 'Tanaka', 'Murphy'];

/** The demo's customers (besides the seeded users): `count` of them, the same every time. */
export function demoCustomers(count: number): { id: string; name: string; email: string }[] {
  return Array.from({ length: count }, (_, i) => {
    const first = FIRST[i % FIRST.length]!;
    const last = LAST[(i * 7 + Math.floor(i / FIRST.length)) % LAST.length]!;
    return { id: id('20000000', i + 1), name: `${first} ${last}`, email: `${first}.${last}.${i + 1}@example.com`.toLowerCase() };
  });
}
