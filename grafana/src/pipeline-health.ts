import { PanelBuilder as BarGauge } from '@grafana/grafana-foundation-sdk/bargauge';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { BarGaugeDisplayMode, LegendDisplayMode, LegendPlacement, ReduceDataOptionsBuilder, VisibilityMode, VizLegendOptionsBuilder, VizOrientation } from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type Panel,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimeline } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { datasourceRef, datasourceVariable, dedent, panel } from './panels.js';

/**
 * The pipeline health dashboard, from Prometheus: consumer lag (messages, seconds, group status),
 * the outbox and relay, streams transactions, sink inserts, end-to-end latency per stage and the
 * canary, and the processes. Metric names are those of the README's Monitoring section.
 */
export const PIPELINE_HEALTH_UID = 'shopstream-pipeline-health';

type Query = { expr: string; legend: string; refId?: string };

function promql(query: Query, instant: boolean): DataqueryBuilder {
  const builder = new DataqueryBuilder()
    .refId(query.refId ?? 'A')
    .datasource(datasourceRef('prometheus'))
    .expr(dedent(query.expr))
    .legendFormat(query.legend);
  return instant ? builder.instant() : builder.range();
}

/** Two queries of a histogram's p50 and p99 over `by` (plus `le`). */
function quantiles(bucket: string, by: string[] = [], legend = ''): Query[] {
  const labels = ['le', ...by].join(', ');
  const suffix = legend ? ` ${legend}` : '';
  return [0.5, 0.99].map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    expr: `histogram_quantile(${q}, sum by (${labels}) (rate(${bucket}[$__rate_interval])))`,
    legend: `p${q * 100}${suffix}`,
  }));
}

const legend = () => new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).calcs([]);

function timeseries(spec: { title: string; description: string; unit: string; w: number; h?: number }, queries: Query[]): TimeSeries {
  const builder = panel(new TimeSeries(), { ...spec, h: spec.h ?? 8, datasource: 'prometheus' }).legend(legend()).fillOpacity(10);
  for (const query of queries) builder.withTarget(promql(query, false));
  return builder;
}

function thresholds(steps: [number | null, string][]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps.map(([value, color]) => ({ value, color })));
}

function stat(spec: { title: string; description: string; unit: string; w: number }, query: Query, steps: [number | null, string][]): Stat {
  return panel(new Stat(), { ...spec, h: 5, datasource: 'prometheus' })
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(thresholds(steps))
    .withTarget(promql(query, true));
}

function states(spec: { title: string; description: string; w: number }, query: Query, mapping: ValueMapping): StateTimeline {
  return panel(new StateTimeline(), { ...spec, unit: 'none', h: 6, datasource: 'prometheus' })
    .mappings([mapping])
    .showValue(VisibilityMode.Never)
    .legend(legend())
    .withTarget(promql(query, false));
}

function valueMap(entries: [number, string, string][]): ValueMapping {
  return { type: MappingType.ValueToText, options: Object.fromEntries(entries.map(([value, text, color], index) => [String(value), { text, color, index }])) };
}

const GROUP = 'group=~"$group"';
const STATUS_CODES: [number, string, string][] = [
  [0, 'OK', 'green'],
  [1, 'WARN', 'yellow'],
  [2, 'STALL', 'orange'],
  [3, 'STOP', 'red'],
];

function lagPanels() {
  return [
    timeseries(
      {
        title: 'Lag by partition (seconds)',
        description: 'Now − the timestamp of the first record the group has not consumed (the record at its committed offset), per group, topic and partition; 0 when caught up. Exact at each scrape of the lag collector.',
        unit: 's',
        w: 12,
      },
      [{ expr: `max by (group, topic, partition) (shopstream_consumergroup_lag_seconds{${GROUP}})`, legend: '{{group}} {{topic}}/{{partition}}' }],
    ),
    timeseries(
      {
        title: 'Lag by partition (messages)',
        description: 'Last stable offset (read_committed end) − committed offset, per group, topic and partition: never negative, 0 when caught up, also behind transaction markers.',
        unit: 'short',
        w: 12,
      },
      [{ expr: `max by (group, topic, partition) (shopstream_consumergroup_lag{${GROUP}})`, legend: '{{group}} {{topic}}/{{partition}}' }],
    ),
    panel(new BarGauge(), {
      title: 'Max lag per group',
      description: 'The largest lag in seconds over the partitions of each consumer group, now.',
      unit: 's',
      datasource: 'prometheus',
      w: 8,
      h: 6,
    })
      .orientation(VizOrientation.Horizontal)
      .displayMode(BarGaugeDisplayMode.Basic)
      .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
      .thresholds(thresholds([[null, 'green'], [5, 'yellow'], [30, 'red']]))
      .withTarget(promql({ expr: `max by (group) (shopstream_consumergroup_max_lag_seconds{${GROUP}})`, legend: '{{group}}' }, true)),
    states(
      {
        title: 'Group status',
        description: 'Status of each consumer group from its recent commits, Burrow-like: OK; WARN: lag growing while it commits; STALL: lag but its committed offset does not move; STOP: no commits for a while with lag.',
        w: 16,
      },
      {
        expr: `
          max by (group) (
              (shopstream_consumergroup_status{${GROUP}, status="OK"} == 1) * 0
            or (shopstream_consumergroup_status{${GROUP}, status="WARN"} == 1) * 1
            or (shopstream_consumergroup_status{${GROUP}, status="STALL"} == 1) * 2
            or (shopstream_consumergroup_status{${GROUP}, status="STOP"} == 1) * 3
          )`,
        legend: '{{group}}',
      },
      valueMap(STATUS_CODES),
    ),
  ];
}

function outboxPanels() {
  return [
    timeseries(
      { title: 'Outbox backlog', description: 'Outbox rows not yet published to Kafka (parked rows included).', unit: 'short', w: 6 },
      [{ expr: 'max(shopstream_outbox_backlog)', legend: 'unpublished' }],
    ),
    timeseries(
      { title: 'Oldest unpublished event', description: 'Age of the oldest outbox row not yet published: how far the relay is behind the writes.', unit: 's', w: 6 },
      [{ expr: 'max(shopstream_outbox_oldest_unpublished_age_seconds)', legend: 'age' }],
    ),
    timeseries(
      { title: 'Relay publish rate', description: 'Events the relay published to Kafka (acknowledged), per second and event type.', unit: 'ops', w: 6 },
      [{ expr: 'sum by (event_type) (rate(shopstream_relay_published_total[$__rate_interval]))', legend: '{{event_type}}' }],
    ),
    timeseries(
      { title: 'Relay publish latency', description: 'Outbox commit → Kafka acknowledgement, p50 and p99.', unit: 's', w: 6 },
      quantiles('shopstream_relay_publish_latency_seconds_bucket'),
    ),
  ];
}

function streamsAndSinkPanels() {
  return [
    timeseries(
      { title: 'Stream transactions', description: 'Kafka transactions of the streams role committed and aborted (then retried), per second.', unit: 'ops', w: 8 },
      [
        { refId: 'A', expr: 'sum(rate(shopstream_streams_transactions_committed_total[$__rate_interval]))', legend: 'committed' },
        { refId: 'B', expr: 'sum(rate(shopstream_streams_transactions_aborted_total[$__rate_interval]))', legend: 'aborted' },
      ],
    ),
    timeseries(
      { title: 'Sink inserts', description: 'ClickHouse inserts (batches) per second, and rows per second by table.', unit: 'ops', w: 8 },
      [
        { refId: 'A', expr: 'sum(rate(shopstream_sink_batch_size_count[$__rate_interval]))', legend: 'batches' },
        { refId: 'B', expr: 'sum by (table) (rate(shopstream_sink_rows_total[$__rate_interval]))', legend: 'rows {{table}}' },
      ],
    ),
    timeseries(
      { title: 'Sink insert latency', description: 'Duration of one ClickHouse insert of the sink, p50 and p99.', unit: 's', w: 8 },
      quantiles('shopstream_sink_insert_latency_seconds_bucket'),
    ),
  ];
}

function latencyPanels() {
  return [
    timeseries(
      {
        title: 'End-to-end latency by stage',
        description: 'From the outbox commit to each stage, p50 and p99: kafka (relay acknowledged), streams (streams output committed), clickhouse (sink insert returned: queryable).',
        unit: 's',
        w: 12,
      },
      quantiles('shopstream_e2e_latency_seconds_bucket{stage=~"$stage"}', ['stage'], '{{stage}}'),
    ),
    timeseries(
      { title: 'Canary round trip', description: 'A heartbeat change from the MySQL outbox through relay, Kafka, streams and sink until seen in ClickHouse, p50 and p99.', unit: 's', w: 6 },
      quantiles('shopstream_canary_round_trip_seconds_bucket'),
    ),
    stat(
      { title: 'Canary age', description: 'Now − emit time of the newest canary seen in ClickHouse: the freshness of the whole pipeline.', unit: 's', w: 3 },
      { expr: 'max(shopstream_canary_age_seconds)', legend: 'age' },
      [[null, 'green'], [10, 'yellow'], [30, 'red']],
    ),
    stat(
      { title: 'Canaries lost', description: 'Canaries emitted that never reached ClickHouse, over the selected range.', unit: 'short', w: 3 },
      { expr: 'sum(increase(shopstream_canary_lost_total[$__range]))', legend: 'lost' },
      [[null, 'green'], [1, 'red']],
    ),
  ];
}

function processPanels() {
  const upDown = valueMap([
    [0, 'down', 'red'],
    [1, 'up', 'green'],
  ]);
  return [
    states({ title: 'Scrape targets', description: 'Whether Prometheus reaches each target it scrapes (up).', w: 12 }, { expr: 'up', legend: '{{job}} {{instance}}' }, upDown),
    states(
      { title: 'Roles up', description: 'Whether an instance of each supervised role (streams, sink) runs in each process; 0 while it is being restarted.', w: 12 },
      { expr: 'max by (instance, role) (shopstream_role_up)', legend: '{{role}} {{instance}}' },
      upDown,
    ),
    timeseries(
      { title: 'HTTP requests', description: 'Requests served per second, by status.', unit: 'reqps', w: 6 },
      [{ expr: 'sum by (status) (rate(shopstream_http_requests_total[$__rate_interval]))', legend: '{{status}}' }],
    ),
    timeseries(
      { title: 'HTTP latency p99', description: 'p99 of the request duration, by route.', unit: 's', w: 6 },
      [{ expr: 'histogram_quantile(0.99, sum by (le, route) (rate(shopstream_http_request_duration_seconds_bucket[$__rate_interval])))', legend: '{{route}}' }],
    ),
    timeseries(
      { title: 'Event loop delay p99', description: 'p99 of the event loop delay since the previous scrape, per process.', unit: 's', w: 6 },
      [{ expr: 'max by (instance) (shopstream_event_loop_delay_seconds{quantile="0.99"})', legend: '{{instance}}' }],
    ),
    timeseries(
      { title: 'CPU', description: 'CPU time used per second of each process (1 = one core).', unit: 'percentunit', w: 6 },
      [{ expr: 'sum by (instance) (rate(shopstream_process_cpu_seconds_total[$__rate_interval]))', legend: '{{instance}}' }],
    ),
  ];
}

function labelVariable(name: string, label: string, metric: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(datasourceRef('prometheus'))
    .query(`label_values(${metric}, ${name})`)
    .definition(`label_values(${metric}, ${name})`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ text: 'All', value: '$__all' });
}

export function pipelineHealthDashboard(): Dashboard {
  const dashboard = new DashboardBuilder('shopstream · pipeline health')
    .uid(PIPELINE_HEALTH_UID)
    .description('Consumer lag, outbox, relay, streams, sink, end-to-end latency and the canary, from Prometheus.')
    .tags(['shopstream'])
    .time({ from: 'now-1h', to: 'now' })
    .refresh('10s')
    .withVariable(datasourceVariable('prometheus'))
    .withVariable(labelVariable('group', 'Consumer group', 'shopstream_consumergroup_lag'))
    .withVariable(labelVariable('stage', 'Stage', 'shopstream_e2e_latency_seconds_bucket'));
  const sections: [string, () => cog.Builder<Panel>[]][] = [
    ['Consumer lag', lagPanels],
    ['Outbox and relay', outboxPanels],
    ['Streams and sink', streamsAndSinkPanels],
    ['End-to-end latency and canary', latencyPanels],
    ['Processes', processPanels],
  ];
  for (const [title, panels] of sections) {
    dashboard.withRow(new RowBuilder(title));
    for (const p of panels()) dashboard.withPanel(p);
  }
  return dashboard.build();
}
