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

/** A range of UTC days, both ends included (`YYYY-MM-DD`). */
export interface DateRange {
  from: string;
  to: string;
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
  /** Over every counted order, or over those created in `range`. */
  stats(range?: DateRange): Promise<SalesStats>;
  userSales(userId: string): Promise<UserSales>;
}

export interface AnalyticsStore extends AnalyticsReader {
  health(): Promise<AnalyticsHealth>;
  /**
   * The outbox commit time (epoch µs) of the newest order change the aggregates hold, null
   * before the first: it moves whenever a sales figure may have changed.
   */
  newestChange(): Promise<number | null>;
}
