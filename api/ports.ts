/**
 * The analytics read model (SPEC §6 definitions, §7 shapes): dates UTC `YYYY-MM-DD`, money a
 * decimal string with two places, counts integers. Implemented on ClickHouse (what the API
 * serves) and on MySQL (the truth it is reconciled against).
 */
export interface DailySales {
  date: string;
  orders: number;
  revenue: string;
  avgOrderValue: string;
}
export interface HourlySales {
  /** 0-23, UTC. */
  hour: number;
  orders: number;
  revenue: string;
}
export interface StatusSales {
  status: string;
  orders: number;
  revenue: string;
}
export interface ProductSales {
  productId: string;
  name: string;
  units: number;
  revenue: string;
}
export interface PaymentMethodSales {
  method: string;
  orders: number;
  revenue: string;
}
export interface SalesStats {
  orders: number;
  revenue: string;
  avgOrderValue: string;
  customers: number;
}
export interface UserSales {
  orders: number;
  revenue: string;
  /** ISO timestamps of the user's first and last counted order, null without one. */
  firstOrderAt: string | null;
  lastOrderAt: string | null;
}

export interface AnalyticsHealth {
  reachable: boolean;
  /** Emit time (its outbox commit time, epoch µs) of the newest canary heartbeat in the store; null before the first. */
  newestHeartbeatAt: number | null;
}

export interface AnalyticsReader {
  /** Days in [from, to] with at least one counted order, ascending. */
  dailySales(from: string, to: string): Promise<DailySales[]>;
  /** Hours of `date` with at least one counted order, ascending. */
  hourlySales(date: string): Promise<HourlySales[]>;
  /** Non-deleted orders by current status, by status name. */
  orderStatus(): Promise<StatusSales[]>;
  /** Products by revenue (descending, then id) over the counted orders created in [from, to]. */
  topProducts(from: string, to: string, limit: number): Promise<ProductSales[]>;
  /** Counted orders with a captured payment, by method name. */
  paymentMethods(): Promise<PaymentMethodSales[]>;
  stats(): Promise<SalesStats>;
  userSales(userId: string): Promise<UserSales>;
}

export interface AnalyticsStore extends AnalyticsReader {
  health(): Promise<AnalyticsHealth>;
}

/** What /readyz checks: each dependency of this process's roles. */
export type ReadinessCheck = () => Promise<{ name: string; ok: boolean; detail?: string }>;

/** The /metrics endpoint's source. */
export interface MetricsEndpoint {
  readonly contentType: string;
  render(): Promise<string>;
}

/** A long operation's state as the ops routes report it; `lines` from index `since` on. */
export interface OpsJobView {
  id: string;
  command: string;
  state: 'running' | 'done';
  exitCode: number | null;
  lines: string[];
  /** Index of the next line (pass it as `since`). */
  next: number;
  progress: { phase: string; done: number; total: number } | null;
}

/**
 * Long operations (replay, reconcile) run by the process that owns the analytics engine, so the
 * CLI reaches the embedded engine through its API. A job runs once; its output is kept until the
 * process ends.
 */
export interface OpsJobs {
  readonly commands: readonly string[];
  start(command: string, args: string[]): string;
  view(id: string, since: number): OpsJobView | undefined;
}
