import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The parts of a Prometheus rule file these checks read. */
export interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[];
}

/** The parts of a promtool unit-test file these checks read. */
export interface RuleTestFile {
  tests: { name?: string; alert_rule_test?: { alertname: string; eval_time: string; exp_alerts?: unknown[] | null }[] }[];
}

/**
 * What the alert tests lack: every alert needs a case where it fires (exp_alerts not empty) and a
 * case where it must stay silent (exp_alerts empty or absent); a test of an alert that does not
 * exist is a mistake too.
 */
export function alertTestGaps(rules: RuleFile, tests: RuleTestFile): string[] {
  const alerts = rules.groups.flatMap((g) => g.rules).flatMap((r) => (r.alert ? [r.alert] : []));
  const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
  const gaps: string[] = [];
  for (const alert of alerts) {
    const mine = cases.filter((c) => c.alertname === alert);
    if (!mine.some((c) => (c.exp_alerts ?? []).length > 0)) gaps.push(`${alert}: no case where it fires`);
    if (!mine.some((c) => (c.exp_alerts ?? []).length === 0)) gaps.push(`${alert}: no case where it stays silent`);
  }
  for (const name of new Set(cases.map((c) => c.alertname))) if (!alerts.includes(name)) gaps.push(`${name}: tested but not in the rules`);
  return gaps;
}

/** Runs Debian's promtool (installed by `npm test`'s setup); exit status and combined output. */
export function promtool(args: string[], cwd?: string): { status: number | null; output: string } {
  const binary = existsSync('/usr/bin/promtool') ? '/usr/bin/promtool' : 'promtool';
  const result = spawnSync(binary, args, { cwd, encoding: 'utf8' });
  if (result.error) throw new Error(`promtool could not run (${result.error.message}): apt-get install --no-install-recommends prometheus, or run npm test`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
