import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { configFromEnv } from '../../cli/config.js';
import { resolveStackOptions } from '../../stack/options.js';
import { prometheusConfig, RULES_FILE } from '../../stack/prometheus.js';
import { alertTestGaps, promtool, type RuleFile, type RuleTestFile } from '../support/prometheus-rules.js';

const folder = fileURLToPath(new URL('../../prometheus/', import.meta.url));
const rules = parse(readFileSync(join(folder, 'rules.yml'), 'utf8')) as RuleFile;
const tests = parse(readFileSync(join(folder, 'rules.test.yml'), 'utf8')) as RuleTestFile;
const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);
const scratch = mkdtempSync(join(tmpdir(), 'shopstream-promtool-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('prometheus/rules.yml', () => {
  it('passes promtool check rules', () => {
    const { status, output } = promtool(['check', 'rules', 'rules.yml'], folder);
    expect(status, output).toBe(0);
  });

  it('passes its promtool unit tests (rules.test.yml)', () => {
    const { status, output } = promtool(['test', 'rules', 'rules.test.yml'], folder);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it('has, for every alert, a test case where it fires and one where it stays silent', () => {
    expect(alerts.length).toBeGreaterThan(10);
    expect(alertTestGaps(rules, tests)).toEqual([]);
  });

  it('gives every alert a severity, a summary, a description and a `for`', () => {
    for (const alert of alerts) {
      expect(['critical', 'warning'], alert.alert).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary, alert.alert).toBeTruthy();
      expect(alert.annotations?.description, alert.alert).toBeTruthy();
      expect(alert.for, alert.alert).toMatch(/^\d+[smh]$/);
    }
  });

  it('alerts on everything the contract names', () => {
    const watched = (metric: string) => alerts.some((a) => a.expr.includes(metric) || rules.groups.flatMap((g) => g.rules).some((r) => r.record && a.expr.includes(r.record) && r.expr.includes(metric)));
    for (const metric of [
      'shopstream_outbox_backlog',
      'shopstream_outbox_oldest_unpublished_age_seconds',
      'shopstream_outbox_parked',
      'shopstream_relay_failures_total',
      'shopstream_consumergroup_max_lag_seconds',
      'shopstream_consumergroup_status',
      'shopstream_canary_lost_total',
      'shopstream_canary_age_seconds',
      'shopstream_e2e_latency_seconds_bucket',
      'shopstream_role_up',
      'kafka_connect_task_error_metrics_deadletterqueue_produce_requests',
    ]) {
      expect(watched(metric), metric).toBe(true);
    }
    expect(alerts.some((a) => /^up\b.*== 0$/.test(a.expr)), 'a scrape target down').toBe(true);
  });
});

describe('the alert-test coverage check', () => {
  const twoAlerts: RuleFile = { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'a > 0' }, { alert: 'B', expr: 'b > 0' }, { record: 'r', expr: 'sum(a)' }] }] };
  const fires = { eval_time: '1m', exp_alerts: [{ exp_labels: {} }] };
  const silent = { eval_time: '1m', exp_alerts: [] };

  it('names an alert without a firing case, without a silent case, and a test of an unknown alert', () => {
    const gaps = alertTestGaps(twoAlerts, {
      tests: [{ alert_rule_test: [{ alertname: 'A', ...fires }, { alertname: 'A', ...silent }, { alertname: 'B', ...fires }, { alertname: 'C', ...silent }] }],
    });
    expect(gaps).toEqual(['B: no case where it stays silent', 'C: tested but not in the rules']);
    expect(alertTestGaps(twoAlerts, { tests: [{ alert_rule_test: [{ alertname: 'A', eval_time: '1m' }] }] })).toEqual([
      'A: no case where it fires',
      'B: no case where it fires',
      'B: no case where it stays silent',
    ]);
  });

  it('finds nothing to report when both alerts have both cases', () => {
    const cases = ['A', 'B'].flatMap((alertname) => [{ alertname, ...fires }, { alertname, ...silent }]);
    expect(alertTestGaps(twoAlerts, { tests: [{ alert_rule_test: cases }] })).toEqual([]);
  });
});

describe('Prometheus configurations', () => {
  it('scrape the pipeline on this machine by default, or the PROMETHEUS_TARGETS listed', () => {
    expect(configFromEnv({}).stack).toMatchObject({ prometheusPort: 9090, prometheusTargets: ['localhost:3000'] });
    expect(configFromEnv({ PORT: '3100', PROMETHEUS_PORT: '9191' }).stack).toMatchObject({ prometheusPort: 9191, prometheusTargets: ['localhost:3100'] });
    expect(configFromEnv({ PROMETHEUS_TARGETS: ' localhost:3000, 10.0.0.7:3001,[::1]:3002 ' }).stack.prometheusTargets).toEqual(['localhost:3000', '10.0.0.7:3001', '[::1]:3002']);
    expect(() => configFromEnv({ PROMETHEUS_TARGETS: 'http://localhost:3000/metrics' })).toThrow(/PROMETHEUS_TARGETS must list host:port entries \(got "http:\/\/localhost:3000\/metrics"\)/);
  });

  it('the one `stack up` writes passes promtool check config (rules included)', () => {
    const file = join(scratch, 'local.yml');
    writeFileSync(file, prometheusConfig(resolveStackOptions({ dir: scratch, prometheusTargets: ['localhost:3000', '127.0.0.1:3001'] })));
    const { status, output } = promtool(['check', 'config', file]);
    expect(status, output).toBe(0);
    expect(output).toContain(`${rules.groups.flatMap((g) => g.rules).length} rules found`);
    expect((parse(readFileSync(file, 'utf8')) as { rule_files: string[] }).rule_files).toEqual([RULES_FILE]);
  });

  it("the distributed stack's prometheus/prometheus.yml passes promtool check config, its rules read from the mounted folder", () => {
    expect(promtool(['check', 'config', '--syntax-only', join(folder, 'prometheus.yml')]).status).toBe(0);
    // docker-compose.yml mounts prometheus/ at /etc/prometheus; promtool resolves no Docker
    // hostnames, so the targets pass as written and only the rule paths need the local folder.
    const compose = parse(readFileSync(join(folder, '..', 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, { volumes?: string[] }> };
    expect(compose.services.prometheus!.volumes).toContain('./prometheus:/etc/prometheus:ro');
    const config = parse(readFileSync(join(folder, 'prometheus.yml'), 'utf8')) as { rule_files: string[] };
    expect(config.rule_files.length).toBeGreaterThan(0);
    const local = {
      ...config,
      rule_files: config.rule_files.map((path) => {
        expect(path.startsWith('/etc/prometheus/'), path).toBe(true);
        return join(folder, path.slice('/etc/prometheus/'.length));
      }),
    };
    const file = join(scratch, 'compose.yml');
    writeFileSync(file, stringify(local));
    const { status, output } = promtool(['check', 'config', file]);
    expect(status, output).toBe(0);
    expect(local.rule_files).toContain(join(folder, 'rules.yml'));
  });
});
