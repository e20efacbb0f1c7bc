import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_DIR } from '../../api/app.js';
import { waitFor } from '../../core/retry.js';
import { DEMO_PRODUCTS, SEEDED_USERS } from '../../demo/people.js';
import { MysqlAnalyticsTruth } from '../../mysql/analytics-truth.js';
import { useIsolatedPipeline } from '../support/pipeline.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Screenshots of each run (git-ignored). */
const SHOTS = join(ROOT, 'test-results', 'dashboard');
/** Debian's Chromium (scripts/setup.js installs it); playwright-core never downloads a browser. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--mute-audio'];

const utcDay = (offset = 0) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const range = (days: number) => ({ from: utcDay(-(days - 1)), to: utcDay() });
/** "1,234.50" → "1234.50": the page groups digits, and shows the API's figure otherwise as is. */
const plain = (text: string) => text.replace(/,/g, '').trim();

/**
 * The dashboard in a real browser (Debian's Chromium, headless, through playwright-core) against
 * a running pipeline (every role, one process) holding a demo history: what the page shows is
 * what the analytics API answers, an order placed through the API shows in the KPIs and the
 * daily chart within 2 s without a reload, the range picker changes what is shown, the page
 * loads nothing from elsewhere, has no console errors nor failed requests, pauses its stream in
 * a hidden tab, shows the pipeline degraded while the sink is paused, is usable by keyboard and
 * fits a phone's width.
 */
describe('the dashboard in a browser', () => {
  const isolated = useIsolatedPipeline(['api', 'relay', 'streams', 'sink', 'monitor'], {
    seedDemo: true,
    demoHistory: { days: 10, ordersPerDay: 8, customers: 8 },
  });
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const external: string[] = [];
  const problems: string[] = [];
  /** While the page reloads, what it had in flight ends as aborted. */
  let reloading = false;
  const url = () => isolated.pipeline.url!;
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url()}${path}`);
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  };
  const query = (r: { from: string; to: string }) => `from=${r.from}&to=${r.to}`;

  beforeAll(async () => {
    if (!existsSync(join(DASHBOARD_DIR, 'index.html'))) execFileSync(process.execPath, [join(ROOT, 'web', 'build.mjs')], { stdio: 'inherit' });
    mkdirSync(SHOTS, { recursive: true });
    // The demo history has gone through the pipeline: ClickHouse answers what MySQL holds.
    const truth = new MysqlAnalyticsTruth(isolated.pipeline.pool!);
    const expected = await truth.stats();
    expect(expected.orders).toBeGreaterThan(40);
    await waitFor(async () => {
      const got = await api<{ orders: number; revenue: string }>('/api/analytics/stats');
      return got.orders === expected.orders && got.revenue === expected.revenue ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200, describe: 'the demo history in ClickHouse' });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const origin = new URL(url()).origin;
    await context.route('**/*', (route) => {
      const target = new URL(route.request().url());
      if (target.origin === origin) return route.continue();
      external.push(target.href);
      return route.abort('blockedbyclient');
    });
    page = await context.newPage();
    watch(page);
    await page.goto(url());
  });

  afterAll(async () => {
    await browser?.close();
  });

  function watch(target: Page) {
    target.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    target.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    target.on('requestfailed', (request) => {
      // A stream the page closed (hidden tab, the page closing) ends as aborted.
      const aborted = request.failure()?.errorText === 'net::ERR_ABORTED';
      if (!(aborted && (reloading || request.url().endsWith('/api/events')))) problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`);
    });
    target.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
    });
  }

  const kpis = (target = page) =>
    target.$$eval('[data-kpi]', (cards) => Object.fromEntries(cards.map((card) => [(card as HTMLElement).dataset.kpi!, { value: card.querySelector('.kpi-value')!.textContent!, change: card.querySelector('.kpi-change')!.textContent! }])));
  const tableRows = (id: string) => page.$$eval(`#${id} tbody tr`, (rows) => rows.map((row) => [...(row as HTMLTableRowElement).cells].map((cell) => cell.textContent!.trim())));
  const withoutEmpty = (rows: string[][]) => rows.filter((row) => row.length > 1);
  /** The KPI cards once they show these figures (they are read in the background). */
  async function kpisShowing(stats: { orders: number; revenue: string; avgOrderValue: string; customers: number }, timeoutMs = 10_000) {
    return waitFor(
      async () => {
        const shown = await kpis();
        const same =
          plain(shown.orders!.value) === String(stats.orders) &&
          plain(shown.revenue!.value) === stats.revenue &&
          plain(shown.avgOrderValue!.value) === stats.avgOrderValue &&
          plain(shown.customers!.value) === String(stats.customers);
        return same ? shown : undefined;
      },
      { timeoutMs, intervalMs: 50, describe: `KPIs ${JSON.stringify(stats)}` },
    );
  }
  const percent = (current: number, previous: number) => {
    const tenths = Math.round((Math.abs(current - previous) * 1000) / previous);
    return `${tenths === 0 ? '±' : current > previous ? '+' : '−'}${(tenths / 10).toFixed(1)}%`;
  };

  it('shows the analytics API’s figures in every KPI, chart table and list', async () => {
    const week = range(7);
    const before = { from: utcDay(-13), to: utcDay(-7) };
    const [stats, previous, daily, hourly, statuses, methods, products, recent] = await Promise.all([
      api<{ orders: number; revenue: string; avgOrderValue: string; customers: number }>(`/api/analytics/stats?${query(week)}`),
      api<{ orders: number }>(`/api/analytics/stats?${query(before)}`),
      api<{ date: string; orders: number; revenue: string; avgOrderValue: string }[]>(`/api/analytics/daily-sales?${query(week)}`),
      api<{ hour: number; orders: number; revenue: string }[]>(`/api/analytics/hourly-sales?date=${utcDay()}`),
      api<{ status: string; orders: number; revenue: string }[]>('/api/analytics/order-status'),
      api<{ method: string; orders: number; revenue: string }[]>('/api/analytics/payment-methods'),
      api<{ name: string; units: number; revenue: string }[]>(`/api/analytics/top-products?${query(week)}&limit=5`),
      api<{ items: { id: string; totalAmount: string; status: string; items: unknown[] }[] }>('/api/orders?limit=10'),
    ]);
    // The range's figures are those of the orders created in it, as MySQL has them.
    expect(stats).toEqual(await new MysqlAnalyticsTruth(isolated.pipeline.pool!).stats(week));
    expect(stats.orders).toBeGreaterThan(0);
    expect(previous.orders).toBeGreaterThan(0);

    const shown = await kpisShowing(stats);
    expect(shown.orders!.change).toBe(`${percent(stats.orders, previous.orders)} vs the 7 days before`);
    expect(withoutEmpty(await tableRows('daily-table'))).toEqual([...daily].reverse().map((d) => [d.date, String(d.orders), expect.any(String), expect.any(String)]));
    expect((await tableRows('daily-table')).map((r) => [plain(r[2]!), plain(r[3]!)])).toEqual([...daily].reverse().map((d) => [d.revenue, d.avgOrderValue]));
    expect(withoutEmpty(await tableRows('hourly-table')).map((r) => [Number(r[0]!.slice(0, 2)), Number(r[1]), plain(r[2]!)])).toEqual(hourly.map((h) => [h.hour, h.orders, h.revenue]));
    const labelled = (key: string) => key.charAt(0) + key.slice(1).toLowerCase().replace(/_/g, ' ');
    expect((await tableRows('status-table')).map((r) => [r[0], Number(r[1]), plain(r[2]!)])).toEqual(statuses.map((s) => [labelled(s.status), s.orders, s.revenue]));
    expect((await tableRows('methods-table')).map((r) => [r[0], Number(r[1]), plain(r[2]!)])).toEqual(methods.map((m) => [labelled(m.method), m.orders, m.revenue]));
    expect((await tableRows('products-table')).map((r) => [r[0], Number(r[1]), plain(r[2]!)])).toEqual(products.map((p) => [p.name, p.units, p.revenue]));
    const links = await page.$$eval('#recent-table tbody a', (anchors) => anchors.map((a) => (a as HTMLAnchorElement).getAttribute('href')));
    expect(links).toEqual(recent.items.map((o) => `/api/orders/${o.id}`));
    expect((await tableRows('recent-table')).map((r) => plain(r[4]!))).toEqual(recent.items.map((o) => o.totalAmount));
    // The link opens the order's JSON.
    const first = await (await fetch(`${url()}${links[0]}`)).json();
    expect(first.id).toBe(recent.items[0]!.id);

    // Charts are drawn, and labelled with the figures they show.
    expect(await page.getAttribute('#daily-chart', 'aria-label')).toContain(`${stats.orders} orders`);
    for (const id of ['daily-chart', 'hourly-chart', 'status-chart', 'methods-chart']) {
      expect(await page.$eval(`#${id}`, (canvas) => (canvas as HTMLCanvasElement).width > 0 && (canvas as HTMLCanvasElement).toDataURL().length > 2_000)).toBe(true);
    }
  });

  it('shows the pipeline health of /api/pipeline/health, ok', async () => {
    const health = await waitFor(async () => {
      const view = await api<{ status: string; consumers: { stage: string }[]; outbox: { backlog: number; parked: number } | null; latency: { stages: { stage: string; count: number }[] } }>('/api/pipeline/health');
      return view.status === 'ok' && view.consumers.length === 2 ? view : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500, describe: 'a healthy pipeline with lag measured' });
    expect(health.outbox).toMatchObject({ parked: 0 });
    expect(health.latency.stages.find((s) => s.stage === 'clickhouse')!.count).toBeGreaterThan(0);
    await page.waitForFunction(() => document.getElementById('pipeline-status')?.textContent === 'OK', undefined, { timeout: 10_000 });
    expect(await page.textContent('#pipeline-badge')).toBe('Pipeline: OK');
    expect((await tableRows('lag-table')).map((r) => r[0])).toEqual(['Streams', 'Sink']);
    expect(await page.textContent('[data-figure="parked"] .figure-value')).toBe('0');
    expect(await page.textContent('[data-figure="freshness"] .figure-value')).toMatch(/^\d+(\.\d+)? s$/);
    await page.screenshot({ path: join(SHOTS, 'desktop.png'), fullPage: true });
  });

  it('shows an order placed through the API in the KPIs and the daily chart within 2 s, without a reload', async () => {
    const week = range(7);
    const before = await api<{ orders: number; revenue: string; avgOrderValue: string; customers: number }>(`/api/analytics/stats?${query(week)}`);
    await kpisShowing(before);
    const todayRow = async () => (await tableRows('daily-table')).find((r) => r[0] === utcDay());
    const todayBefore = await todayRow();
    const chartBefore = await page.$eval('#daily-chart', (canvas) => (canvas as HTMLCanvasElement).toDataURL());
    await page.evaluate(() => ((window as unknown as { loaded: string }).loaded = document.body.dataset.updatedAt ?? ''));

    const response = await fetch(`${url()}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: SEEDED_USERS[0], items: [{ productId: DEMO_PRODUCTS[2], quantity: 3 }] }),
    });
    const placedAt = performance.now();
    expect(response.status).toBe(201);
    const order = (await response.json()) as { totalAmount: string };
    // When the API had it (what the pipeline takes), next to when the page showed it.
    const queryable = waitFor(async () => ((await api<{ orders: number }>(`/api/analytics/stats?${query(week)}`)).orders > before.orders ? performance.now() - placedAt : undefined), {
      timeoutMs: 10_000,
      intervalMs: 10,
      describe: 'the order in the API',
    });
    await page.waitForFunction((orders) => document.querySelector('[data-kpi="orders"] .kpi-value')?.textContent?.replace(/,/g, '') === String(orders), before.orders + 1, { timeout: 2_000, polling: 'raf' });
    const seenAfterMs = performance.now() - placedAt;
    console.log(`dashboard: the order showed in the KPIs ${Math.round(seenAfterMs)} ms after the API accepted it`);
    expect(seenAfterMs).toBeLessThan(2_000);

    const after = await api<{ orders: number; revenue: string; avgOrderValue: string; customers: number }>(`/api/analytics/stats?${query(week)}`);
    expect(after.orders).toBe(before.orders + 1);
    await kpisShowing(after, 2_000);
    const todayAfter = await todayRow();
    expect(Number(todayAfter![1])).toBe(Number(todayBefore?.[1] ?? 0) + 1);
    expect(await page.$eval('#daily-chart', (canvas) => (canvas as HTMLCanvasElement).toDataURL())).not.toBe(chartBefore);
    // No reload: the same document, read again.
    expect(await page.evaluate(() => (window as unknown as { loaded?: string }).loaded !== undefined && document.body.dataset.updatedAt !== (window as unknown as { loaded: string }).loaded)).toBe(true);
    expect(await page.$eval('#recent-table tbody tr td:nth-child(5)', (td) => td.textContent!.replace(/,/g, ''))).toBe(order.totalAmount);
    console.log(`dashboard: the order was queryable ${Math.round(await queryable)} ms and showed in the KPIs ${Math.round(seenAfterMs)} ms after the API accepted it`);
  });

  it('changes what it shows with the range picker', async () => {
    const fortnight = range(14);
    const [stats, daily, week] = await Promise.all([
      api<{ orders: number; revenue: string; avgOrderValue: string; customers: number }>(`/api/analytics/stats?${query(fortnight)}`),
      api<{ date: string; orders: number }[]>(`/api/analytics/daily-sales?${query(fortnight)}`),
      api<{ orders: number }>(`/api/analytics/stats?${query(range(7))}`),
    ]);
    expect(stats.orders).toBeGreaterThan(week.orders);
    await page.selectOption('#range', '14');
    await kpisShowing(stats);
    expect(await page.textContent('#range-label')).toBe(`(last 14 days: ${fortnight.from} to ${fortnight.to})`);
    // Each part of the page is shown as its own figures arrive: the daily table may follow the KPIs.
    const expected = JSON.stringify([...daily].reverse().map((d) => [d.date, d.orders]));
    const shownDaily = async () => JSON.stringify(withoutEmpty(await tableRows('daily-table')).map((r) => [r[0], Number(r[1])]));
    await waitFor(async () => ((await shownDaily()) === expected ? true : undefined), { timeoutMs: 5_000, intervalMs: 50, describe: `the daily table showing ${expected}` }).catch(async (error) => {
      expect(await shownDaily()).toBe(expected);
      throw error;
    });
    await page.selectOption('#range', '7');
    await kpisShowing(await api(`/api/analytics/stats?${query(range(7))}`));
  });

  it('pauses its stream in a hidden tab and catches up when shown again', async () => {
    const requests: string[] = [];
    const onRequest = (request: { url(): string }) => requests.push(request.url());
    const setHidden = (hidden: boolean) =>
      page.evaluate((value) => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => value });
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (value ? 'hidden' : 'visible') });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    const week = range(7);
    // Settled: no read in flight when the tab hides.
    const shown = await kpisShowing(await api(`/api/analytics/stats?${query(week)}`));
    await new Promise((resolve) => setTimeout(resolve, 300));
    page.on('request', onRequest);
    await setHidden(true);
    expect(await page.textContent('#live')).toMatch(/^Paused while the tab is hidden/);
    const response = await fetch(`${url()}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: SEEDED_USERS[1], items: [{ productId: DEMO_PRODUCTS[0], quantity: 1 }] }),
    });
    expect(response.status).toBe(201);
    const stats = await waitFor(async () => {
      const s = await api<{ orders: number; revenue: string; avgOrderValue: string; customers: number }>(`/api/analytics/stats?${query(week)}`);
      return plain((await kpis()).orders!.value) !== String(s.orders) ? s : undefined;
    }, { timeoutMs: 10_000, intervalMs: 100, describe: 'the order in the API (not on the hidden page)' });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(requests).toEqual([]);
    expect((await kpis()).orders!.value).toBe(shown.orders!.value);
    expect(plain(shown.orders!.value)).toBe(String(stats.orders - 1));
    page.off('request', onRequest);
    await setHidden(false);
    await kpisShowing(stats, 2_000);
    await page.waitForFunction(() => document.getElementById('live')?.textContent?.startsWith('Live'), undefined, { timeout: 5_000 });
  });

  it('shows the pipeline degraded while the sink is paused, and OK again after', async () => {
    await isolated.pipeline.pauseRole('sink');
    try {
      await page.waitForFunction(() => document.getElementById('pipeline-badge')?.textContent === 'Pipeline: degraded', undefined, { timeout: 10_000 });
      expect(await page.textContent('#pipeline-status')).toContain('role sink');
      const health = await api<{ status: string; checks: { name: string; ok: boolean }[] }>('/api/pipeline/health');
      expect(health.status).toBe('degraded');
      expect(health.checks.filter((c) => !c.ok).map((c) => c.name)).toContain('role sink');
    } finally {
      await isolated.pipeline.resumeRole('sink');
    }
    await page.waitForFunction(() => document.getElementById('pipeline-badge')?.textContent === 'Pipeline: OK', undefined, { timeout: 30_000 });
  });

  it('is usable by keyboard alone', async () => {
    reloading = true;
    await page.reload();
    reloading = false;
    await page.waitForSelector('#recent-table tbody a');
    const reached: string[] = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      reached.push(
        await page.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          if (!el || el === document.body) return 'body';
          return el.id ? `#${el.id}` : el.tagName === 'A' ? `a:${el.getAttribute('href')}` : `${el.tagName.toLowerCase()}:${el.textContent?.trim().slice(0, 30)}`;
        }),
      );
    }
    expect(reached[0]).toBe('a:#main');
    for (const wanted of ['#range', '#pipeline-badge', '#hourly-date', 'summary:Daily figures as a table', 'summary:Hourly figures as a table', 'summary:Checks']) expect(reached).toContain(wanted);
    expect(reached.some((r) => r.startsWith('a:/api/orders/'))).toBe(true);
    // The range picker works from the keyboard.
    await page.focus('#range');
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction(() => document.getElementById('range-label')?.textContent?.startsWith('(last 14 days'), undefined, { timeout: 5_000 });
    // Every control has a name.
    const unnamed = await page.$$eval('select, input, a, summary, canvas', (elements) =>
      elements.filter((el) => !(el.getAttribute('aria-label') || el.textContent?.trim() || (el.id && document.querySelector(`label[for="${el.id}"]`)))).map((el) => el.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
  });

  it('fits a phone’s width', async () => {
    const phone = await context.newPage();
    watch(phone);
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(url());
    await phone.waitForSelector('#recent-table tbody a');
    await phone.waitForFunction(() => document.querySelector('[data-kpi="orders"] .kpi-value')?.textContent !== '…', undefined, { timeout: 10_000 });
    const [scrollWidth, clientWidth] = await phone.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    await phone.screenshot({ path: join(SHOTS, 'phone.png'), fullPage: true });
    await phone.close();
  });

  it('loaded nothing from elsewhere, logged no error and had no failed request', () => {
    expect(external).toEqual([]);
    expect(problems).toEqual([]);
  });
});
