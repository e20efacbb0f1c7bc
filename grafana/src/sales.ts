import { PanelBuilder as BarGauge } from '@grafana/grafana-foundation-sdk/bargauge';
import { BarGaugeDisplayMode, BarGaugeValueMode, GraphDrawStyle, LegendDisplayMode, LegendPlacement, ReduceDataOptionsBuilder, VizLegendOptionsBuilder, VizOrientation } from '@grafana/grafana-foundation-sdk/common';
import { DashboardBuilder, TextBoxVariableBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as PieChart, PieChartLabels, PieChartLegendOptionsBuilder, PieChartLegendValues, PieChartType } from '@grafana/grafana-foundation-sdk/piechart';
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { ClickHouseQueryBuilder } from './clickhouse.js';
import { datasourceRef, datasourceVariable, dedent, exactField, panel } from './panels.js';

/**
 * The sales dashboard: ClickHouse's aggregates with the SPEC §6 definitions the analytics API
 * uses (clickhouse/analytics.ts), so the dashboard and GET /api/analytics/* agree. A *counted*
 * order is not deleted and neither CANCELLED nor REFUNDED; its hour and day are those of its
 * creation, in UTC. The aggregates are kept per hour (hourly_sales, dimension-free) and per day
 * (product_sales), so the range a panel covers is whole hours or whole days, as its description
 * says; the figures per status, method and customer come from `orders FINAL` over the same hours.
 * `${database}` is the analytics database (CLICKHOUSE_DATABASE).
 */
export const SALES_UID = 'shopstream-sales';

const USD = 'currencyUSD';
const COUNT = 'locale';
/** The hours that overlap the dashboard's range, on hourly_sales. */
const HOURS = `hour >= toStartOfHour($__fromTime, 'UTC') AND hour <= $__toTime`;
/** The same hours, on the creation time of `orders`. */
const CREATED_IN_HOURS = `created_at >= toStartOfHour($__fromTime, 'UTC') AND created_at < toStartOfHour($__toTime, 'UTC') + INTERVAL 1 HOUR`;
const COUNTED = `is_deleted = 0 AND status NOT IN ('CANCELLED', 'REFUNDED')`;
const HOURS_NOTE = 'Hours (UTC) that overlap the selected range.';

const sql = (text: string) => new ClickHouseQueryBuilder(dedent(text)).datasource(datasourceRef('clickhouse'));

function stat(title: string, description: string, unit: string, field: string, query: string): Stat {
  return panel(new Stat(), { title, description, unit, datasource: 'clickhouse', w: 6, h: 4 })
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields(exactField(field)).values(false))
    .withTarget(sql(query));
}

function legend(): VizLegendOptionsBuilder {
  return new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).calcs([]);
}

/** The panels, top to bottom (built anew for each dashboard: the SDK's builders share their objects). */
function salesPanels() {
  const revenue = stat('Revenue', `Sum of the totals of counted orders. ${HOURS_NOTE}`, USD, 'revenue', `
    SELECT sum(revenue) AS revenue
    FROM \${database}.hourly_sales
    WHERE ${HOURS}`).decimals(2);

  const orders = stat('Orders', `Counted orders: not deleted, neither CANCELLED nor REFUNDED. ${HOURS_NOTE}`, COUNT, 'orders', `
    SELECT sum(orders) AS orders
    FROM \${database}.hourly_sales
    WHERE ${HOURS}`);

  // Half-up to cents: the quotient is cut at 6 places, which can never cross a .xx5 boundary.
  const averageOrderValue = stat('Average order value', `Revenue / orders, rounded half up to cents; 0.00 without orders. ${HOURS_NOTE}`, USD, 'avg_order_value', `
    SELECT toDecimal128(if(sum(orders) = 0, toDecimal128(0, 6), round(toDecimal128(sum(revenue), 6) / sum(orders), 2)), 2) AS avg_order_value
    FROM \${database}.hourly_sales
    WHERE ${HOURS}`).decimals(2);

  const customers = stat('Customers', `Distinct users with a counted order created in the range. ${HOURS_NOTE}`, COUNT, 'customers', `
    SELECT uniqExact(user_id) AS customers
    FROM \${database}.orders FINAL
    WHERE ${COUNTED}
      AND ${CREATED_IN_HOURS}`);

  const daily = panel(new TimeSeries(), {
    title: 'Daily revenue and orders',
    description: 'Revenue (bars, left axis) and counted orders (line, right axis) per UTC day of creation, for the days of the range (as GET /api/analytics/daily-sales); days without orders are left out.',
    unit: USD,
    datasource: 'clickhouse',
    w: 12,
    h: 9,
  })
    .drawStyle(GraphDrawStyle.Bars)
    .fillOpacity(60)
    .legend(legend())
    .overrideByName('orders', [
      { id: 'unit', value: COUNT },
      { id: 'custom.drawStyle', value: GraphDrawStyle.Line },
      { id: 'custom.axisPlacement', value: 'right' },
      { id: 'custom.fillOpacity', value: 0 },
    ])
    .withTarget(
      sql(`
        SELECT toStartOfDay(hour) AS time, sum(revenue) AS revenue, sum(orders) AS orders
        FROM \${database}.hourly_sales
        WHERE $__dateFilter(toDate(hour))
        GROUP BY time
        HAVING orders != 0
        ORDER BY time`).timeSeries(),
    );

  const hourly = panel(new TimeSeries(), {
    title: 'Orders per hour',
    description: `Counted orders per UTC hour of creation. ${HOURS_NOTE} Hours without orders are left out.`,
    unit: COUNT,
    datasource: 'clickhouse',
    w: 12,
    h: 9,
  })
    .drawStyle(GraphDrawStyle.Bars)
    .fillOpacity(80)
    .legend(legend())
    .overrideByName('orders', [{ id: 'displayName', value: 'Orders' }])
    .withTarget(
      sql(`
        SELECT hour AS time, sum(orders) AS orders
        FROM \${database}.hourly_sales
        WHERE ${HOURS}
        GROUP BY time
        HAVING orders != 0
        ORDER BY time`).timeSeries(),
    );

  const statuses = panel(new PieChart(), {
    title: 'Status distribution',
    description: `Every order that is not deleted, by its current status (cancelled and refunded included), created in the range. ${HOURS_NOTE}`,
    unit: COUNT,
    datasource: 'clickhouse',
    w: 8,
    h: 9,
  })
    .pieType(PieChartType.Donut)
    .displayLabels([PieChartLabels.Name, PieChartLabels.Percent])
    .reduceOptions(new ReduceDataOptionsBuilder().values(true).calcs([]).fields(exactField('orders')))
    .legend(new PieChartLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Right).values([PieChartLegendValues.Value]).calcs([]))
    .overrideByName('revenue', [{ id: 'unit', value: USD }])
    .withTarget(
      sql(`
        SELECT status, count() AS orders, sum(total_amount) AS revenue
        FROM \${database}.orders FINAL
        WHERE is_deleted = 0
          AND ${CREATED_IN_HOURS}
        GROUP BY status
        ORDER BY status`),
    );

  const paymentMethods = panel(new BarGauge(), {
    title: 'Payment methods',
    description: `Revenue of the counted orders with a captured payment, by payment method, created in the range. ${HOURS_NOTE}`,
    unit: USD,
    datasource: 'clickhouse',
    w: 8,
    h: 9,
  })
    .orientation(VizOrientation.Horizontal)
    .displayMode(BarGaugeDisplayMode.Gradient)
    .valueMode(BarGaugeValueMode.Color)
    .reduceOptions(new ReduceDataOptionsBuilder().values(true).calcs([]).fields(exactField('revenue')))
    .overrideByName('orders', [{ id: 'unit', value: COUNT }])
    .withTarget(
      sql(`
        SELECT payment_method AS method, count() AS orders, sum(total_amount) AS revenue
        FROM \${database}.orders FINAL
        WHERE ${COUNTED}
          AND payment_method != ''
          AND ${CREATED_IN_HOURS}
        GROUP BY method
        ORDER BY revenue DESC, method`),
    );

  const topProducts = panel(new Table(), {
    title: 'Top products',
    description: 'The 10 products with the most revenue (quantity × unit price of the items of counted orders) over the UTC days of the range, as GET /api/analytics/top-products.',
    unit: COUNT,
    datasource: 'clickhouse',
    w: 8,
    h: 9,
  })
    .overrideByName('revenue', [{ id: 'unit', value: USD }, { id: 'decimals', value: 2 }])
    .withTransformation({ id: 'organize', options: { excludeByName: { product_id: true }, renameByName: { product: 'Product', units: 'Units', revenue: 'Revenue' } } })
    .withTarget(
      sql(`
        SELECT toString(product_id) AS product_id, anyLast(product_name) AS product, sum(units) AS units, sum(revenue) AS revenue
        FROM \${database}.product_sales
        WHERE $__dateFilter(day)
        GROUP BY product_id
        HAVING units != 0
        ORDER BY revenue DESC, product_id
        LIMIT 10`),
    );

  const topCustomers = panel(new Table(), {
    title: 'Top customers',
    description: `The 10 users with the most revenue from counted orders created in the range, with their latest name. ${HOURS_NOTE}`,
    unit: COUNT,
    datasource: 'clickhouse',
    w: 10,
    h: 10,
  })
    .overrideByName('revenue', [{ id: 'unit', value: USD }, { id: 'decimals', value: 2 }])
    .withTransformation({ id: 'organize', options: { excludeByName: { user_id: true }, renameByName: { customer: 'Customer', orders: 'Orders', revenue: 'Revenue' } } })
    .withTarget(
      sql(`
        SELECT toString(user_id) AS user_id, argMax(user_name, updated_at) AS customer, count() AS orders, sum(total_amount) AS revenue
        FROM \${database}.orders FINAL
        WHERE ${COUNTED}
          AND ${CREATED_IN_HOURS}
        GROUP BY user_id
        ORDER BY revenue DESC, user_id
        LIMIT 10`),
    );

  const recentOrders = panel(new Table(), {
    title: 'Recent orders',
    description: 'The 50 newest orders created in the range (its exact bounds), in their current state; deleted orders are not shown.',
    unit: 'none',
    datasource: 'clickhouse',
    w: 14,
    h: 10,
  })
    .overrideByName('total', [{ id: 'unit', value: USD }, { id: 'decimals', value: 2 }])
    .overrideByName('time', [{ id: 'unit', value: 'dateTimeAsIso' }])
    .withTransformation({
      id: 'organize',
      options: { renameByName: { time: 'Created', order_id: 'Order', customer: 'Customer', status: 'Status', total: 'Total', items: 'Items', method: 'Payment' } },
    })
    .withTarget(
      sql(`
        SELECT created_at AS time, toString(order_id) AS order_id, user_name AS customer, status, total_amount AS total, item_count AS items, payment_method AS method
        FROM \${database}.orders FINAL
        WHERE is_deleted = 0
          AND $__timeFilter(created_at)
        ORDER BY created_at DESC
        LIMIT 50`),
    );

  return [revenue, orders, averageOrderValue, customers, daily, hourly, statuses, paymentMethods, topProducts, topCustomers, recentOrders];
}

export function salesDashboard(): Dashboard {
  const dashboard = new DashboardBuilder('shopstream · sales')
    .uid(SALES_UID)
    .description('Revenue, orders and customers from ClickHouse, with the definitions of the analytics API (SPEC §6).')
    .tags(['shopstream'])
    .timezone('utc')
    .time({ from: 'now-30d', to: 'now' })
    .refresh('1m')
    .withVariable(datasourceVariable('clickhouse'))
    .withVariable(new TextBoxVariableBuilder('database').label('Database').defaultValue('analytics').current({ text: 'analytics', value: 'analytics' }));
  for (const p of salesPanels()) dashboard.withPanel(p);
  return dashboard.build();
}
