import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DASHBOARDS_DIR, generate } from '../../grafana/dashboards.js';
import { committedDashboards, fieldsReadBy, panelsOf, type DashboardJson } from '../support/grafana.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const dashboards = committedDashboards();
const PANEL_TYPES = ['timeseries', 'stat', 'table', 'bargauge', 'piechart', 'state-timeline', 'gauge', 'barchart', 'text'];
/** What Grafana or the plugins put in place of `$name`, beside the dashboard's own variables. */
const BUILT_IN = /^__(from|to|interval|interval_ms|rate_interval|range|timeFilter|timeFilter_ms|dateFilter|dateTimeFilter|dt|fromTime|toTime|fromTime_ms|toTime_ms|timeInterval|timeInterval_ms|interval_s|conditionalAll)$/;

function variablesUsed(text: string): string[] {
  return [...text.matchAll(/\$(\w+)|\$\{(\w+)\}/g)].map((m) => (m[1] ?? m[2])!);
}

describe('the Grafana dashboards (generated from grafana/src)', () => {
  it('are committed exactly as the generator writes them (`npm run dashboards`)', () => {
    const generated = generate();
    expect(readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json')).sort()).toEqual(Object.keys(generated).sort());
    for (const [file, json] of Object.entries(generated)) expect(readFileSync(`${DASHBOARDS_DIR}${file}`, 'utf8'), `${file}: run npm run dashboards`).toBe(json);
  });

  it('give every panel a unit and a description, with no legacy graph panel', () => {
    for (const [file, dashboard] of Object.entries(dashboards)) {
      const panels = panelsOf(dashboard);
      expect(panels.length, file).toBeGreaterThan(8);
      for (const panel of panels) {
        const where = `${file}: ${panel.title}`;
        expect(PANEL_TYPES, where).toContain(panel.type);
        expect(panel.description?.trim(), where).toBeTruthy();
        expect(panel.fieldConfig?.defaults?.unit, where).toBeTruthy();
        expect(panel.targets?.length, where).toBeGreaterThan(0);
      }
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size, `${file}: unique panel ids`).toBe(ids.length);
    }
  });

  it('template their datasources, defaulting to the provisioned ones', () => {
    const provisioned = (parse(read('grafana/provisioning/datasources/datasources.yml')) as { datasources: { uid: string; type: string }[] }).datasources;
    for (const [file, dashboard] of Object.entries(dashboards)) {
      const dsVariables = new Map(dashboard.templating.list.filter((v) => v.type === 'datasource').map((v) => [`\${${v.name}}`, v]));
      expect(dsVariables.size, file).toBeGreaterThan(0);
      for (const variable of dsVariables.values()) {
        expect(provisioned, `${file}: ${variable.name} defaults to a provisioned datasource`).toContainEqual(expect.objectContaining({ uid: variable.current!.value, type: variable.query }));
      }
      for (const panel of panelsOf(dashboard)) {
        for (const ref of [panel.datasource!, ...panel.targets!.map((t) => t.datasource)]) {
          const variable = dsVariables.get(ref.uid);
          expect(variable, `${file}: ${panel.title} names its datasource by a variable`).toBeDefined();
          expect(ref.type, `${file}: ${panel.title}`).toBe(variable!.query);
        }
        const refIds = panel.targets!.map((t) => t.refId);
        expect(new Set(refIds).size, `${file}: ${panel.title} refIds`).toBe(refIds.length);
      }
      for (const variable of dashboard.templating.list) if (variable.datasource) expect(dsVariables.has(variable.datasource.uid), `${file}: variable ${variable.name}`).toBe(true);
    }
  });

  it('use only variables the dashboard defines, and well-formed queries', () => {
    for (const [file, dashboard] of Object.entries(dashboards)) {
      const defined = new Set(dashboard.templating.list.map((v) => v.name));
      for (const panel of panelsOf(dashboard)) {
        for (const target of panel.targets!) {
          const text = target.rawSql ?? target.expr ?? '';
          expect(text.trim(), `${file}: ${panel.title}`).not.toBe('');
          for (const name of variablesUsed(text)) expect(defined.has(name) || BUILT_IN.test(name), `${file}: ${panel.title} uses $${name}`).toBe(true);
          if (target.datasource.type === 'grafana-clickhouse-datasource') {
            expect(target, `${file}: ${panel.title}`).toMatchObject({ editorType: 'sql', format: panel.type === 'timeseries' ? 0 : 1 });
          } else {
            expect(target.instant !== target.range, `${file}: ${panel.title} is either instant or range`).toBe(true);
          }
        }
      }
    }
  });

  it('name the fields they read, so running the queries can check them', () => {
    const sales = dashboards['sales.json'] as DashboardJson;
    for (const panel of panelsOf(sales)) expect(fieldsReadBy(panel).length, panel.title).toBeGreaterThan(0);
  });

  it('are provisioned from grafana/ on the distributed stack', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { volumes?: string[]; environment?: Record<string, string> }> };
    const grafana = compose.services.grafana!;
    const mount = (source: string) => grafana.volumes!.find((v) => v.split(':')[0] === source)?.split(':')[1];
    expect(mount('./grafana/provisioning')).toBe('/etc/grafana/provisioning');
    const providers = (parse(read('grafana/provisioning/dashboards/dashboards.yml')) as { providers: { type: string; options: { path: string } }[] }).providers;
    expect(providers.map((p) => p.options.path)).toEqual([mount('./grafana/dashboards')]);
    expect(String(grafana.environment!.GF_INSTALL_PLUGINS).split(',')).toContain('grafana-clickhouse-datasource');
    // $__rate_interval is computed from the datasource's scrape interval: the one Prometheus uses.
    const datasources = (parse(read('grafana/provisioning/datasources/datasources.yml')) as { datasources: { type: string; jsonData?: { timeInterval?: string } }[] }).datasources;
    const scrape = (parse(read('prometheus/prometheus.yml')) as { global: { scrape_interval: string } }).global.scrape_interval;
    expect(datasources.find((d) => d.type === 'prometheus')!.jsonData?.timeInterval).toBe(scrape);
  });
});
