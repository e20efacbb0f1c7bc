import { describe, expect, it } from 'vitest';
import { applyConditionalAll, expandClickHouseQuery, expandMacros, formatInterval, MacroError, replaceVariables } from '../../grafana/src/macros.js';
import { expandPrometheusQuery } from '../../grafana/src/promql.js';

/**
 * Golden expansions of the grafana-clickhouse-datasource macros. The expected strings are the
 * plugin's own test expectations (pkg/macros/macros_test.go: TestMacro*, TestInterpolate) and
 * those of the plugin SDK's interpolation (data/sqlutil/macros_test.go), with their time ranges.
 */
const PLUGIN_RANGE = { from: Date.parse('2014-11-12T11:45:26.371Z'), to: Date.parse('2015-11-12T11:45:26.371Z'), intervalMs: 20_000 };
const INTERPOLATE_RANGE = { from: Date.parse('2014-11-12T11:45:26.123Z'), to: Date.parse('2015-11-12T11:45:26.456Z'), intervalMs: 20_000 };

describe('grafana-clickhouse-datasource macros, as the plugin expands them', () => {
  it.each([
    ['$__fromTime', 'toDateTime(1415792726)'], // TestMacroFromTimeFilter
    ['$__toTime', 'toDateTime(1447328726)'], // TestMacroToTimeFilter
    ['$__fromTime_ms', 'fromUnixTimestamp64Milli(1415792726371)'], // TestMacroFromTimeFilterMs
    ['$__toTime_ms', 'fromUnixTimestamp64Milli(1447328726371)'], // TestMacroToTimeFilterMs
    ['$__dateFilter(dateCol)', "dateCol >= toDate('2014-11-12') AND dateCol <= toDate('2015-11-12')"], // TestMacroDateFilter
    // TestMacroDateTimeFilter ($__dt is its short name)
    ['$__dateTimeFilter(dateCol, timeCol)', "(dateCol >= toDate('2014-11-12') AND dateCol <= toDate('2015-11-12')) AND (timeCol >= toDateTime(1415792726) AND timeCol <= toDateTime(1447328726))"],
    ['$__dt(dateCol, timeCol)', "(dateCol >= toDate('2014-11-12') AND dateCol <= toDate('2015-11-12')) AND (timeCol >= toDateTime(1415792726) AND timeCol <= toDateTime(1447328726))"],
    ['$__timeInterval(col)', 'toStartOfInterval(toDateTime(col), INTERVAL 20 second)'], // TestMacroTimeInterval (20 s)
    ['$__timeInterval_ms(col)', 'toStartOfInterval(toDateTime64(col, 3), INTERVAL 20000 millisecond)'], // TestMacroTimeIntervalMs
    ['toStartOfInterval(col, INTERVAL $__interval_s second)', 'toStartOfInterval(col, INTERVAL 20 second)'], // TestMacroIntervalSeconds
  ])('%s → %s', (input, expected) => {
    expect(expandMacros(input, PLUGIN_RANGE)).toBe(expected);
  });

  it.each([
    // TestInterpolate of pkg/macros/macros_test.go
    ['select * from foo where $__timeFilter(cast(sth as timestamp))', 'select * from foo where cast(sth as timestamp) >= toDateTime(1415792726) AND cast(sth as timestamp) <= toDateTime(1447328726)'],
    ['select * from foo where $__timeFilter(cast(sth as timestamp) )', 'select * from foo where cast(sth as timestamp) >= toDateTime(1415792726) AND cast(sth as timestamp) <= toDateTime(1447328726)'],
    ['select * from foo where $__timeFilter_ms(cast(sth as timestamp))', 'select * from foo where cast(sth as timestamp) >= fromUnixTimestamp64Milli(1415792726123) AND cast(sth as timestamp) <= fromUnixTimestamp64Milli(1447328726456)'],
    ['select * from foo where ( date >= $__fromTime and date <= $__toTime ) limit 100', 'select * from foo where ( date >= toDateTime(1415792726) and date <= toDateTime(1447328726) ) limit 100'],
    ['select * from foo where ( date >= $__fromTime ) and ( date <= $__toTime ) limit 100', 'select * from foo where ( date >= toDateTime(1415792726) ) and ( date <= toDateTime(1447328726) ) limit 100'],
    ['select * from foo where ( date >= $__fromTime_ms and date <= $__toTime_ms ) limit 100', 'select * from foo where ( date >= fromUnixTimestamp64Milli(1415792726123) and date <= fromUnixTimestamp64Milli(1447328726456) ) limit 100'],
    ['select * from foo where ( date >= $__fromTime_ms ) and ( date <= $__toTime_ms ) limit 100', 'select * from foo where ( date >= fromUnixTimestamp64Milli(1415792726123) ) and ( date <= fromUnixTimestamp64Milli(1447328726456) ) limit 100'],
  ])('interpolates %s', (input, expected) => {
    expect(expandMacros(input, INTERPOLATE_RANGE)).toBe(expected);
  });

  it('expands the example of the plugin documentation', () => {
    expect(expandMacros('WHERE $__timeFilter(col)', { from: 1_700_000_000_000, to: 1_700_003_600_000, intervalMs: 1000 })).toBe('WHERE col >= toDateTime(1700000000) AND col <= toDateTime(1700003600)');
  });

  it('parses arguments as the plugin SDK does (sqlutil.Interpolate)', () => {
    const c = { from: 1_700_000_000_000, to: 1_700_003_600_000, intervalMs: 1500 };
    // Arguments only from a bracket right after the name ("don't consume args after a space").
    expect(expandMacros('$__fromTime (x)', c)).toBe('toDateTime(1700000000) (x)');
    expect(expandMacros('$__toTime*(a + b)', c)).toBe('toDateTime(1700003600)*(a + b)');
    // Commas inside nested brackets do not split arguments.
    expect(expandMacros('$__timeFilter(toDateTime(a, b))', c)).toBe('toDateTime(a, b) >= toDateTime(1700000000) AND toDateTime(a, b) <= toDateTime(1700003600)');
    // A longer name is not the shorter macro: `$__timeFilter_ms` is its own, `$__timeFilterX` none.
    expect(expandMacros('$__timeFilterX(c)', c)).toBe('$__timeFilterX(c)');
    // Every occurrence, however many.
    expect(expandMacros('$__fromTime, $__fromTime', c)).toBe('toDateTime(1700000000), toDateTime(1700000000)');
    // Intervals: whole seconds, at least 1 (Go's int(math.Max(seconds, 1))).
    expect(expandMacros('$__interval_s $__timeInterval(t)', c)).toBe('1 toStartOfInterval(toDateTime(t), INTERVAL 1 second)');
    expect(expandMacros('$__interval_s', { ...c, intervalMs: 250 })).toBe('1');
    expect(expandMacros('$__timeInterval_ms(t)', { ...c, intervalMs: 0 })).toBe('toStartOfInterval(toDateTime64(t, 3), INTERVAL 1 millisecond)');
    // The SDK's default macros the plugin keeps.
    expect(expandMacros('$__interval $__interval_ms', { ...c, intervalMs: 600_000 })).toBe('10m 600000');
    expect(expandMacros('$__timeFrom(t) AND $__timeTo(t)', c)).toBe("t >= '2023-11-14T22:13:20Z' AND t <= '2023-11-14T23:13:20Z'");
  });

  it('refuses a missing bracket or a wrong number of arguments, as the plugin does', () => {
    const c = { from: 0, to: 1000, intervalMs: 1000 };
    expect(() => expandMacros('where $__timeFilter(created_at', c)).toThrow(MacroError);
    expect(() => expandMacros('where $__timeFilter', c)).toThrow(/expected 1 argument, received 0/);
    expect(() => expandMacros('where $__timeFilter(a, b)', c)).toThrow(/expected 1 argument, received 2/);
    expect(() => expandMacros('where $__dateTimeFilter(d)', c)).toThrow(/expected 2 arguments, received 1/);
  });

  it('formats intervals as Grafana does (gtime.FormatInterval)', () => {
    expect([0, 5, 1000, 90_000, 3_600_000, 2 * 86_400_000, 400 * 86_400_000].map(formatInterval)).toEqual(['1ms', '5ms', '1s', '1m', '1h', '2d', '1y']);
  });
});

describe('template variables, before the macros (plugin frontend and Grafana)', () => {
  const rawSql = 'select stuff from table where $__conditionalAll(fieldVal in ($fieldVal), $fieldVal);';

  // The plugin's "Conditional All" tests (src/data/CHDatasource.test.ts).
  it('replaces $__conditionalAll with 1=1 when All is selected', () => {
    expect(applyConditionalAll(rawSql, { fieldVal: { all: ['a', 'b'] } })).toBe('select stuff from table where 1=1;');
  });

  it('keeps the condition when anything else is selected, and applies every occurrence', () => {
    expect(applyConditionalAll(rawSql, { fieldVal: ['val1', 'val2'] })).toBe('select stuff from table where fieldVal in ($fieldVal);');
    const twice = 'select stuff from table where $__conditionalAll(fieldVal in ($fieldVal), $fieldVal) and $__conditionalAll(fieldVal in ($fieldVal2), $fieldVal2);';
    expect(applyConditionalAll(twice, { fieldVal: ['val1', 'val2'], fieldVal2: { all: '.*' } })).toBe('select stuff from table where fieldVal in ($fieldVal) and 1=1;');
    expect(applyConditionalAll('where $__conditionalAll(x = $v, $v)', { v: '' })).toBe('where 1=1');
    expect(applyConditionalAll('where $__conditionalAll(x = $v, $v)', {})).toBe('where x = $v');
  });

  it('replaces variables with the plugin format (values quoted and joined) and the global time variables', () => {
    const c = { from: 1_700_000_000_000, to: 1_700_003_600_000, intervalMs: 60_000 };
    expect(replaceVariables("x IN ($v) AND y = '${db}' AND [[db]] $__from $__to $__interval $__interval_ms $__timeFilter(t)", { ...c, variables: { v: ['a', 'b'], db: 'analytics' } })).toBe(
      "x IN ('a','b') AND y = 'analytics' AND analytics 1700000000000 1700003600000 1m 60000 $__timeFilter(t)",
    );
  });

  it('expands a panel query end to end: conditional All, variables, then macros', () => {
    const sql = 'SELECT count() FROM ${database}.orders WHERE $__timeFilter(created_at) AND $__conditionalAll(status IN ($status), $status)';
    const c = { from: 1_700_000_000_000, to: 1_700_003_600_000, intervalMs: 60_000 };
    expect(expandClickHouseQuery(sql, { ...c, variables: { database: 'analytics', status: { all: ['PAID'] } } })).toBe(
      'SELECT count() FROM analytics.orders WHERE created_at >= toDateTime(1700000000) AND created_at <= toDateTime(1700003600) AND 1=1',
    );
    expect(expandClickHouseQuery(sql, { ...c, variables: { database: 'analytics', status: ['PAID', 'SHIPPED'] } })).toContain("AND status IN ('PAID','SHIPPED')");
  });
});

describe('Prometheus queries, as Grafana sends them', () => {
  const c = { from: 1_700_000_000_000, to: 1_700_003_600_000, intervalMs: 15_000, scrapeIntervalMs: 5_000 };

  it('replaces the interval variables: $__rate_interval is max(interval + scrape, 4 × scrape)', () => {
    expect(expandPrometheusQuery('rate(x[$__rate_interval]) $__interval $__interval_ms increase(y[$__range])', c)).toBe('rate(x[20s]) 15s 15000 increase(y[3600s])');
    expect(expandPrometheusQuery('rate(x[$__rate_interval])', { ...c, intervalMs: 60_000 })).toBe('rate(x[1m])');
  });

  it('formats variables as the Prometheus datasource does: regex-escaped, several as (a|b), All as its allValue', () => {
    const variables = { group: ['a.b', 'c'], one: 'x.y', stage: { all: '.*' } };
    expect(expandPrometheusQuery('m{group=~"$group", one=~"${one}", stage=~"$stage", other="$other"}', { ...c, variables })).toBe(
      'm{group=~"(a\\\\.b|c)", one=~"x\\\\.y", stage=~".*", other="$other"}',
    );
  });
});
