import type { DailySales, HourlySales, SalesStats } from '../../analytics/read-model.js';
import { api, orderUrl, type Order } from './api.js';
import { COLORS, SalesChart, ShareChart, type Point } from './charts.js';
import { byId, fillTable, setText } from './dom.js';
import { countChange, daysOf, formatCount, formatMoney, formatUtcTime, label, moneyChange, rangesEndingToday, utcToday, type Change, type Ranges } from './format.js';
import { renderHealth } from './health.js';

/**
 * The dashboard: every figure is read from the analytics API (and the recent orders from the
 * order API) and shown as given: money stays the API's decimal string. It reads them again when
 * the server's event stream says a sales figure may have changed; the stream also brings the
 * pipeline health every 2 s. A hidden tab closes the stream and reads everything on its return.
 */

const RECENT_ORDERS = 10;
const TOP_PRODUCTS = 5;
/** Everything is read again at least this often (product names, the day changing). */
const FULL_REFRESH_MS = 60_000;

const state = {
  days: 7,
  /** The day of the hourly chart; undefined: today (it follows the date). */
  hourlyDay: undefined as string | undefined,
  productNames: new Map<string, string>(),
  productsReadAt: 0,
};

const charts = {
  daily: new SalesChart(byId<HTMLCanvasElement>('daily-chart'), 'daily'),
  hourly: new SalesChart(byId<HTMLCanvasElement>('hourly-chart'), 'hourly'),
  status: new ShareChart(byId<HTMLCanvasElement>('status-chart'), COLORS.revenue),
  methods: new ShareChart(byId<HTMLCanvasElement>('methods-chart'), COLORS.orders),
};

const rangeName = (days: number) => (days === 1 ? 'today' : `last ${days} days`);
const previousName = (days: number) => (days === 1 ? 'yesterday' : `the ${days} days before`);

function showKpi(name: keyof SalesStats, value: string, change: Change, days: number): void {
  const card = document.querySelector<HTMLElement>(`[data-kpi="${name}"]`)!;
  setText(card.querySelector('.kpi-value')!, value);
  const changeText = change.direction === 'none' ? `no orders ${rangeName(days)} nor ${previousName(days)}` : `${change.text} vs ${previousName(days)}`;
  const element = card.querySelector<HTMLElement>('.kpi-change')!;
  setText(element, changeText);
  element.className = `kpi-change change-${change.direction}`;
}

function renderKpis(current: SalesStats, previous: SalesStats, ranges: Ranges): void {
  const days = state.days;
  setText(byId('range-label'), `(${rangeName(days)}: ${ranges.current.from} to ${ranges.current.to})`);
  showKpi('orders', formatCount(current.orders), countChange(current.orders, previous.orders), days);
  showKpi('revenue', formatMoney(current.revenue), moneyChange(current.revenue, previous.revenue), days);
  showKpi('avgOrderValue', formatMoney(current.avgOrderValue), moneyChange(current.avgOrderValue, previous.avgOrderValue), days);
  showKpi('customers', formatCount(current.customers), countChange(current.customers, previous.customers), days);
}

function renderDaily(rows: DailySales[], ranges: Ranges): void {
  // The API lists days with orders; the chart shows every day of the range (none: 0).
  const byDate = new Map(rows.map((r) => [r.date, r]));
  const points: Point[] = daysOf(ranges.current.from, ranges.current.to).map((date) => ({ label: date, orders: byDate.get(date)?.orders ?? 0, revenue: byDate.get(date)?.revenue ?? '0.00' }));
  const orders = rows.reduce((sum, r) => sum + r.orders, 0);
  charts.daily.update(points, `Daily revenue (bars) and orders (line), ${ranges.current.from} to ${ranges.current.to}: ${formatCount(orders)} orders on ${rows.length} days with orders`);
  fillTable(
    byId<HTMLTableElement>('daily-table'),
    [...rows].reverse().map((r) => [r.date, formatCount(r.orders), formatMoney(r.revenue), formatMoney(r.avgOrderValue)]),
    [1, 2, 3],
    'No orders in this range',
  );
}

function renderHourly(rows: HourlySales[], day: string): void {
  const byHour = new Map(rows.map((r) => [r.hour, r]));
  const points: Point[] = Array.from({ length: 24 }, (_, hour) => ({ label: `${String(hour).padStart(2, '0')}:00`, orders: byHour.get(hour)?.orders ?? 0, revenue: byHour.get(hour)?.revenue ?? '0.00' }));
  const orders = rows.reduce((sum, r) => sum + r.orders, 0);
  charts.hourly.update(points, `Revenue (bars) and orders (line) per UTC hour of ${day}: ${formatCount(orders)} orders`);
  fillTable(
    byId<HTMLTableElement>('hourly-table'),
    rows.map((r) => [`${String(r.hour).padStart(2, '0')}:00`, formatCount(r.orders), formatMoney(r.revenue)]),
    [1, 2],
    'No orders on this day',
  );
}

function renderShares(id: 'status' | 'methods', rows: { key: string; orders: number; revenue: string }[], what: string): void {
  const points = rows.map((r) => ({ label: label(r.key), orders: r.orders, revenue: r.revenue }));
  charts[id].update(points, `${what}: ${points.map((p) => `${p.label} ${formatCount(p.orders)}`).join(', ') || 'none'}`);
  fillTable(
    byId<HTMLTableElement>(`${id}-table`),
    rows.map((r) => [label(r.key), formatCount(r.orders), formatMoney(r.revenue)]),
    [1, 2],
    'None yet',
  );
}

async function productName(id: string): Promise<string> {
  if (!state.productNames.has(id) && Date.now() - state.productsReadAt > 10_000) {
    state.productsReadAt = Date.now();
    const { items } = await api.products();
    for (const product of items) state.productNames.set(product.id, product.name);
  }
  return state.productNames.get(id) ?? id.slice(0, 8);
}

async function renderRecent(orders: Order[]): Promise<void> {
  const rows = [];
  for (const order of orders) {
    const items = [];
    for (const item of order.items) items.push(`${item.quantity} × ${await productName(item.productId)}`);
    const link = document.createElement('a');
    link.href = orderUrl(order.id);
    link.textContent = order.id.slice(0, 8);
    link.setAttribute('aria-label', `Order ${order.id} as JSON`);
    rows.push([{ text: formatUtcTime(order.createdAt).replace(' UTC', ''), className: 'nowrap' }, link, { text: label(order.status), className: `status status-${order.status.toLowerCase()}` }, items.join(', '), formatMoney(order.totalAmount)]);
  }
  fillTable(byId<HTMLTableElement>('recent-table'), rows, [4], 'No orders yet');
}

async function loadSales(): Promise<void> {
  const now = Date.now();
  const ranges = rangesEndingToday(state.days, now);
  const day = state.hourlyDay ?? utcToday(now);
  const dateInput = byId<HTMLInputElement>('hourly-date');
  if (state.hourlyDay === undefined) dateInput.value = day;
  dateInput.max = utcToday(now);
  // Each part is shown as soon as its figures arrive.
  await Promise.all([
    Promise.all([api.stats(ranges.current), api.stats(ranges.previous)]).then(([current, previous]) => renderKpis(current, previous, ranges)),
    api.dailySales(ranges.current).then((daily) => renderDaily(daily, ranges)),
    api.hourlySales(day).then((hourly) => renderHourly(hourly, day)),
    api.orderStatus().then((statuses) => renderShares('status', statuses.map((s) => ({ key: s.status, orders: s.orders, revenue: s.revenue })), 'Orders by status')),
    api.paymentMethods().then((methods) => renderShares('methods', methods.map((m) => ({ key: m.method, orders: m.orders, revenue: m.revenue })), 'Orders by payment method')),
    api.topProducts(ranges.current, TOP_PRODUCTS).then((products) => {
      setText(byId('products-range'), `(${rangeName(state.days)})`);
      fillTable(
        byId<HTMLTableElement>('products-table'),
        products.map((p) => [p.name, formatCount(p.units), formatMoney(p.revenue)]),
        [1, 2],
        'No sales in this range',
      );
    }),
    api.recentOrders(RECENT_ORDERS).then((recent) => renderRecent(recent.items)),
  ]);
  document.body.dataset.updatedAt = new Date(now).toISOString();
}

/** One read at a time; asked for meanwhile, one more after it (it sees what the first may have missed). */
let loading: Promise<void> | undefined;
let again = false;
function refreshSales(): void {
  // A hidden tab reads nothing; it reads everything when it is shown again.
  if (document.hidden) return;
  if (loading) {
    again = true;
    return;
  }
  loading = loadSales()
    .then(() => setLiveNote(), (error: unknown) => setLiveNote(`could not read the figures (${error instanceof Error ? error.message : String(error)})`))
    .finally(() => {
      loading = undefined;
      if (again) {
        again = false;
        refreshSales();
      }
    });
}

let connection: 'connecting' | 'live' | 'reconnecting' | 'paused' = 'connecting';
let note = '';
function setLiveNote(problem?: string): void {
  note = problem ?? `updated ${formatUtcTime(new Date().toISOString())}`;
  const status = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', paused: 'Paused while the tab is hidden' }[connection];
  setText(byId('live'), `${status} · ${note}`);
}

let source: EventSource | undefined;
function connect(): void {
  source?.close();
  source = new EventSource('/api/events');
  source.addEventListener('open', () => {
    connection = 'live';
    setLiveNote(note || undefined);
  });
  source.addEventListener('error', () => {
    connection = 'reconnecting';
    setLiveNote(note || undefined);
  });
  source.addEventListener('sales', () => refreshSales());
  source.addEventListener('health', (event) => renderHealth(JSON.parse((event as MessageEvent<string>).data)));
}

function readHealth(): void {
  api.pipelineHealth().then(renderHealth, () => undefined);
}

byId<HTMLSelectElement>('range').addEventListener('change', (event) => {
  state.days = Number((event.target as HTMLSelectElement).value);
  refreshSales();
});
byId<HTMLInputElement>('hourly-date').addEventListener('change', (event) => {
  const value = (event.target as HTMLInputElement).value;
  state.hourlyDay = value && value !== utcToday(Date.now()) ? value : undefined;
  refreshSales();
});
document.addEventListener('visibilitychange', () => {
  if (document.hidden) {
    source?.close();
    source = undefined;
    connection = 'paused';
    setLiveNote(note || undefined);
  } else {
    connection = 'connecting';
    connect();
    refreshSales();
    readHealth();
  }
});
setInterval(() => {
  if (!document.hidden) refreshSales();
}, FULL_REFRESH_MS);

state.days = Number(byId<HTMLSelectElement>('range').value);
connect();
refreshSales();
readHealth();
