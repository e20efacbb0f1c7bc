/** The API the dashboard reads (SPEC §7 shapes; money a decimal string, dates UTC). Same origin only. */
import type { DailySales, HourlySales, PaymentMethodSales, ProductSales, SalesStats, StatusSales } from '../../analytics/read-model.js';

export interface Order {
  id: string;
  userId: string;
  status: string;
  totalAmount: string;
  currency: string;
  items: { lineNo: number; productId: string; quantity: number; unitPrice: string; lineTotal: string }[];
  createdAt: string;
}
export interface Product {
  id: string;
  name: string;
}
export interface PipelineHealth {
  status: 'ok' | 'degraded';
  at: string;
  checks: { name: string; ok: boolean; detail: string }[];
  freshness: { canaryAgeSeconds: number; lostInWindow: number; roundTripP99Seconds: number | null } | null;
  outbox: { backlog: number; oldestAgeSeconds: number; parked: number } | null;
  consumers: { group: string; stage: string; status: string; lagMessages: number; lagSeconds: number }[];
  latency: { windowSeconds: number; stages: { stage: string; count: number; p50Seconds: number | null; p99Seconds: number | null }[] };
  roles: { role: string; up: boolean }[];
}

export class ApiError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    detail: string,
  ) {
    super(`${path}: ${status} ${detail}`);
  }
}

async function get<T>(path: string, query: Record<string, string | number> = {}): Promise<T> {
  const search = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  const url = search ? `${path}?${search}` : path;
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) {
    const problem = (await response.json().catch(() => undefined)) as { detail?: string } | undefined;
    throw new ApiError(path, response.status, problem?.detail ?? response.statusText);
  }
  return (await response.json()) as T;
}

type Range = { from: string; to: string };

export const api = {
  stats: (range: Range) => get<SalesStats>('/api/analytics/stats', range),
  dailySales: (range: Range) => get<DailySales[]>('/api/analytics/daily-sales', range),
  hourlySales: (date: string) => get<HourlySales[]>('/api/analytics/hourly-sales', { date }),
  orderStatus: () => get<StatusSales[]>('/api/analytics/order-status'),
  paymentMethods: () => get<PaymentMethodSales[]>('/api/analytics/payment-methods'),
  topProducts: (range: Range, limit: number) => get<ProductSales[]>('/api/analytics/top-products', { ...range, limit }),
  recentOrders: (limit: number) => get<{ items: Order[] }>('/api/orders', { limit }),
  products: () => get<{ items: Product[] }>('/api/products', { limit: 100 }),
  pipelineHealth: () => get<PipelineHealth>('/api/pipeline/health'),
};

/** The order's JSON, as the API serves it. */
export const orderUrl = (id: string) => `/api/orders/${encodeURIComponent(id)}`;
