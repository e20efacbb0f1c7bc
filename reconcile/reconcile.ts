import type { AnalyticsReader } from '../analytics/read-model.js';

export interface Drift {
  aggregate: string;
  key: string;
  truth: unknown;
  analytics: unknown;
}

export interface ReconcileScope {
  /** First and last UTC day to compare (daily, hourly and product sales). */
  from: string;
  to: string;
  /** Users whose per-user figures are compared. */
  users: string[];
}

/**
 * Compares every aggregate of `analytics` with `truth` (SPEC §6: they must be equal once the
 * pipeline has caught up). Returns the drift: each key whose figures differ, with both sides.
 */
export async function reconcile(truth: AnalyticsReader, analytics: AnalyticsReader, scope: ReconcileScope): Promise<Drift[]> {
  const drift: Drift[] = [];
  const compare = <T>(aggregate: string, truthRows: T[], analyticsRows: T[], keyOf: (row: T) => string) => {
    const expected = new Map(truthRows.map((row) => [keyOf(row), row]));
    const actual = new Map(analyticsRows.map((row) => [keyOf(row), row]));
    for (const key of new Set([...expected.keys(), ...actual.keys()])) {
      const a = expected.get(key);
      const b = actual.get(key);
      if (JSON.stringify(a) !== JSON.stringify(b)) drift.push({ aggregate, key, truth: a ?? null, analytics: b ?? null });
    }
  };

  const [truthDays, analyticsDays] = await Promise.all([truth.dailySales(scope.from, scope.to), analytics.dailySales(scope.from, scope.to)]);
  compare('daily-sales', truthDays, analyticsDays, (row) => row.date);
  for (const date of new Set([...truthDays, ...analyticsDays].map((row) => row.date))) {
    compare(`hourly-sales ${date}`, await truth.hourlySales(date), await analytics.hourlySales(date), (row) => String(row.hour));
  }
  compare('order-status', await truth.orderStatus(), await analytics.orderStatus(), (row) => row.status);
  compare('top-products', await truth.topProducts(scope.from, scope.to, 1_000_000), await analytics.topProducts(scope.from, scope.to, 1_000_000), (row) => row.productId);
  compare('payment-methods', await truth.paymentMethods(), await analytics.paymentMethods(), (row) => row.method);
  compare('stats', [await truth.stats()], [await analytics.stats()], () => 'all');
  // Of a range too (the dashboard's KPI cards): the scope's days, and its last day alone.
  for (const range of [{ from: scope.from, to: scope.to }, { from: scope.to, to: scope.to }]) {
    compare('stats', [await truth.stats(range)], [await analytics.stats(range)], () => `${range.from}..${range.to}`);
  }
  for (const user of scope.users) compare('users', [await truth.userSales(user)], [await analytics.userSales(user)], () => user);
  return drift;
}
