import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { pipelineHealthDashboard } from './src/pipeline-health.js';
import { salesDashboard } from './src/sales.js';

/**
 * The provisioned dashboards, generated from TypeScript. `npm run dashboards` writes them to
 * grafana/dashboards/ (what Grafana loads, see grafana/provisioning/dashboards); the test suite
 * fails while the committed files differ from what this generates.
 */
export const DASHBOARDS: Record<string, () => Dashboard> = {
  'sales.json': salesDashboard,
  'pipeline-health.json': pipelineHealthDashboard,
};

export const DASHBOARDS_DIR = fileURLToPath(new URL('./dashboards/', import.meta.url));

/** Each dashboard file's name and its content, as committed. */
export function generate(): Record<string, string> {
  return Object.fromEntries(Object.entries(DASHBOARDS).map(([file, build]) => [file, `${JSON.stringify(numbered(build()), null, 2)}\n`]));
}

/** Panel ids 1, 2, … in layout order (the SDK leaves them to the author; Grafana needs them unique). */
function numbered(dashboard: Dashboard): Dashboard {
  let id = 0;
  for (const panel of dashboard.panels ?? []) panel.id = ++id;
  return dashboard;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [file, json] of Object.entries(generate())) {
    writeFileSync(`${DASHBOARDS_DIR}${file}`, json);
    console.log(`wrote grafana/dashboards/${file}`);
  }
}
