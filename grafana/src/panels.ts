import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { DatasourceVariableBuilder, type Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { CLICKHOUSE_PLUGIN } from './clickhouse.js';

/**
 * The datasources of the dashboards. Every panel names its datasource through a dashboard
 * variable of type datasource, so a Grafana with other datasources (other uids) picks its own;
 * the variables default to the datasources grafana/provisioning/ creates.
 */
export const DATASOURCES = {
  clickhouse: { variable: 'ds_clickhouse', type: CLICKHOUSE_PLUGIN, uid: 'clickhouse', name: 'ClickHouse' },
  prometheus: { variable: 'ds_prometheus', type: 'prometheus', uid: 'prometheus', name: 'Prometheus' },
} as const;

export type DatasourceKind = keyof typeof DATASOURCES;

export function datasourceRef(kind: DatasourceKind): DataSourceRef {
  return { type: DATASOURCES[kind].type, uid: `\${${DATASOURCES[kind].variable}}` };
}

export function datasourceVariable(kind: DatasourceKind): DatasourceVariableBuilder {
  const ds = DATASOURCES[kind];
  return new DatasourceVariableBuilder(ds.variable).label(ds.name).type(ds.type).current({ text: ds.name, value: ds.uid });
}

/** What every panel builder of the SDK has in common. */
interface PanelBuilder extends cog.Builder<Panel> {
  title(title: string): this;
  description(description: string): this;
  unit(unit: string): this;
  datasource(datasource: DataSourceRef): this;
  height(h: number): this;
  span(w: number): this;
}

/** Every panel states what it shows (description) and in what (unit). */
export function panel<T extends PanelBuilder>(
  builder: T,
  spec: { title: string; description: string; unit: string; datasource: DatasourceKind; w: number; h: number },
): T {
  return builder.title(spec.title).description(spec.description).unit(spec.unit).datasource(datasourceRef(spec.datasource)).span(spec.w).height(spec.h);
}

/** Drops the indentation of a multi-line template literal (SQL and PromQL read as written). */
export function dedent(text: string): string {
  const lines = text.replace(/^\n/, '').replace(/\n\s*$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** `/^name$/`: the field-name form Grafana's reduce options accept (a regular expression). */
export const exactField = (name: string) => `/^${name}$/`;
