import { readFileSync } from 'node:fs';
import { DASHBOARDS, DASHBOARDS_DIR } from '../../grafana/dashboards.js';

/** A panel of a dashboard's JSON, as Grafana reads it (only what the tests look at). */
export interface PanelJson {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  targets?: TargetJson[];
  panels?: PanelJson[];
  fieldConfig?: { defaults?: { unit?: string }; overrides?: { matcher: { id: string; options?: unknown } }[] };
  options?: { reduceOptions?: { fields?: string; values?: boolean } };
  transformations?: { id: string; options: Record<string, unknown> }[];
}

export interface TargetJson {
  refId: string;
  datasource: { type: string; uid: string };
  rawSql?: string;
  format?: number;
  expr?: string;
  instant?: boolean;
  range?: boolean;
}

export interface DashboardJson {
  uid: string;
  title: string;
  panels: PanelJson[];
  templating: { list: { name: string; type: string; query?: unknown; current?: { value: string | string[] }; allValue?: string; datasource?: { uid: string } }[] };
}

/** The committed dashboards (what Grafana is provisioned with), by file name. */
export function committedDashboards(): Record<string, DashboardJson> {
  return Object.fromEntries(Object.keys(DASHBOARDS).map((file) => [file, JSON.parse(readFileSync(`${DASHBOARDS_DIR}${file}`, 'utf8')) as DashboardJson]));
}

/** Every panel that shows data (rows flattened away). */
export function panelsOf(dashboard: DashboardJson): PanelJson[] {
  return dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

/**
 * The field names a panel reads: its overrides by name, the field its reduce options pick
 * (`/^name$/`), and the fields its `organize` transformation hides, renames or orders.
 */
export function fieldsReadBy(panel: PanelJson): string[] {
  const names = new Set<string>();
  for (const override of panel.fieldConfig?.overrides ?? []) if (override.matcher.id === 'byName') names.add(String(override.matcher.options));
  const picked = /^\/\^(\w+)\$\/$/.exec(panel.options?.reduceOptions?.fields ?? '');
  if (picked) names.add(picked[1]!);
  for (const t of panel.transformations ?? []) {
    if (t.id !== 'organize') continue;
    for (const key of ['excludeByName', 'renameByName', 'indexByName']) for (const name of Object.keys((t.options[key] as object | undefined) ?? {})) names.add(name);
  }
  return [...names].sort();
}
