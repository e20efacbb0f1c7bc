/** Read model of the analytics API (SPEC §7), implemented on ClickHouse. */
export interface DailySales {
  date: string;
  orders: number;
  revenue: string;
  avgOrderValue: string;
}

export interface AnalyticsHealth {
  reachable: boolean;
  /** Age of the newest applied change, seconds; null before the first. */
  newestAppliedAt: number | null;
}

export interface AnalyticsReader {
  /** Days in [from, to] (UTC, YYYY-MM-DD) with at least one counted order. */
  dailySales(from: string, to: string): Promise<DailySales[]>;
  health(): Promise<AnalyticsHealth>;
}

/** What /readyz checks: each dependency of this process's roles. */
export type ReadinessCheck = () => Promise<{ name: string; ok: boolean; detail?: string }>;

/** The /metrics endpoint's source. */
export interface MetricsEndpoint {
  readonly contentType: string;
  render(): Promise<string>;
}
