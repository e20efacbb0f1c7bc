import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

/**
 * A raw-SQL query of the grafana-clickhouse-datasource plugin (4.x), which the foundation SDK has
 * no builder for: the fields of its `CHSqlQuery` (src/types/sql.ts). `format` is the plugin
 * SDK's `sqlutil.FormatQueryOption`: 0 turns long rows into time series (the query returns a
 * DateTime column), 1 is a table.
 */
export interface ClickHouseQuery {
  refId: string;
  datasource?: DataSourceRef;
  editorType: 'sql';
  queryType: 'table' | 'timeseries';
  format: ClickHouseFormat;
  rawSql: string;
}

export enum ClickHouseFormat {
  TimeSeries = 0,
  Table = 1,
}

export const CLICKHOUSE_PLUGIN = 'grafana-clickhouse-datasource';

export class ClickHouseQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly query: ClickHouseQuery;

  constructor(rawSql: string) {
    this.query = { refId: 'A', editorType: 'sql', queryType: 'table', format: ClickHouseFormat.Table, rawSql };
  }

  refId(refId: string): this {
    this.query.refId = refId;
    return this;
  }

  datasource(datasource: DataSourceRef): this {
    this.query.datasource = datasource;
    return this;
  }

  /** Rows as time series (long to wide), for timeseries panels. */
  timeSeries(): this {
    this.query.format = ClickHouseFormat.TimeSeries;
    this.query.queryType = 'timeseries';
    return this;
  }

  build(): cog.Dataquery {
    return { ...this.query, _implementsDataqueryVariant: () => undefined };
  }
}
