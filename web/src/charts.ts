import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration } from 'chart.js';
import { formatCount, formatMoney } from './format.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

/** Colours with at least 4.5:1 against white (text) or 3:1 (graphics). */
export const COLORS = { revenue: '#2563eb', orders: '#c2410c', grid: '#e5e7eb', text: '#374151' };

Chart.defaults.color = COLORS.text;
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;

/**
 * One series point: its value as drawn (a number: only the bar's height) and the API's figure
 * it stands for, shown as is in the tooltip (money stays the API's decimal string).
 */
export interface Point {
  label: string;
  orders: number;
  revenue: string;
}

const moneyAxis = { beginAtZero: true, grid: { color: COLORS.grid }, ticks: { callback: (value: string | number) => formatCount(Number(value)) } };

export class SalesChart {
  private readonly chart: Chart<'bar' | 'line', number[], string>;
  private points: Point[] = [];

  constructor(
    canvas: HTMLCanvasElement,
    private readonly kind: 'daily' | 'hourly',
  ) {
    const config: ChartConfiguration<'bar' | 'line', number[], string> = {
      type: 'bar',
      data: {
        labels: [],
        datasets: [
          { type: 'bar', label: 'Revenue', data: [], backgroundColor: COLORS.revenue, yAxisID: 'revenue', order: 2 },
          { type: 'line', label: 'Orders', data: [], borderColor: COLORS.orders, backgroundColor: COLORS.orders, yAxisID: 'orders', pointRadius: 3, order: 1 },
        ],
      },
      options: {
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { grid: { display: false } },
          revenue: { ...moneyAxis, position: 'left', title: { display: true, text: 'Revenue' } },
          orders: { beginAtZero: true, position: 'right', grid: { display: false }, ticks: { precision: 0 }, title: { display: true, text: 'Orders' } },
        },
        plugins: {
          legend: { position: 'bottom' },
          tooltip: {
            callbacks: {
              label: (item) => {
                const point = this.points[item.dataIndex];
                if (!point) return '';
                return item.datasetIndex === 0 ? `Revenue: ${formatMoney(point.revenue)}` : `Orders: ${formatCount(point.orders)}`;
              },
            },
          },
        },
      },
    };
    this.chart = new Chart(canvas, config);
    canvas.setAttribute('role', 'img');
  }

  update(points: Point[], summary: string): void {
    this.points = points;
    this.chart.data.labels = points.map((p) => (this.kind === 'daily' ? p.label.slice(5) : p.label));
    this.chart.data.datasets[0]!.data = points.map((p) => Number(p.revenue));
    this.chart.data.datasets[1]!.data = points.map((p) => p.orders);
    this.chart.update('none');
    this.chart.canvas.setAttribute('aria-label', summary);
  }
}

/** Horizontal bars of orders per category (status, payment method); revenue in the tooltip. */
export class ShareChart {
  private readonly chart: Chart<'bar', number[], string>;
  private points: Point[] = [];

  constructor(canvas: HTMLCanvasElement, color: string) {
    this.chart = new Chart(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'Orders', data: [], backgroundColor: color }] },
      options: {
        indexAxis: 'y',
        scales: { x: { beginAtZero: true, ticks: { precision: 0 }, grid: { color: COLORS.grid } }, y: { grid: { display: false } } },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (item) => `${formatCount(this.points[item.dataIndex]?.orders ?? 0)} orders, ${formatMoney(this.points[item.dataIndex]?.revenue ?? '0')}` } },
        },
      },
    });
    canvas.setAttribute('role', 'img');
  }

  update(points: Point[], summary: string): void {
    this.points = points;
    this.chart.data.labels = points.map((p) => p.label);
    this.chart.data.datasets[0]!.data = points.map((p) => p.orders);
    this.chart.update('none');
    this.chart.canvas.setAttribute('aria-label', summary);
  }
}
