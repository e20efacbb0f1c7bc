import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { waitFor } from '../../core/retry.js';
import { resolveStackOptions } from '../../stack/options.js';
import { runningPid } from '../../stack/process.js';
import { prometheusStatus, prometheusUp, RULES_FILE } from '../../stack/prometheus.js';
import { useIsolatedPipeline } from '../support/pipeline.js';
import { freePort } from '../support/process.js';
import { startTestPrometheus, type TestPrometheus } from '../support/prometheus.js';
import type { RuleFile } from '../support/prometheus-rules.js';

/**
 * The local stack's Prometheus (started with the stack's code on a port and folder of the test's
 * own) scraping a running pipeline, with the project's rules loaded. A second target where nothing
 * listens stands for a role that is down.
 */
describe('Prometheus scraping the pipeline', () => {
  const harness = useIsolatedPipeline(['api', 'relay']);
  let prometheus: TestPrometheus;
  let live: string;
  let dead: string;

  beforeAll(async () => {
    live = new URL(harness.pipeline.url!).host;
    dead = `127.0.0.1:${await freePort()}`;
    prometheus = await startTestPrometheus([live, dead]);
  }, 90_000);

  afterAll(async () => {
    await prometheus?.stop();
  });

  it('scrapes the roles it is pointed at: up is 1, and their shopstream_ series arrive', async () => {
    expect((await fetch(`${harness.pipeline.url}/api/products`)).status).toBe(200);
    const [up] = await prometheus.waitForSeries(`up{job="shopstream", instance="${live}"} == 1`);
    expect(up!.value[1]).toBe('1');
    const requests = await prometheus.waitForSeries(`shopstream_http_requests_total{job="shopstream", instance="${live}", route="/api/products"}`);
    expect(requests.map((s) => s.metric.status)).toContain('200');
    expect(await prometheus.waitForSeries(`shopstream_outbox_backlog{instance="${live}"}`)).toHaveLength(1);
    const [down] = await prometheus.waitForSeries(`up{job="shopstream", instance="${dead}"}`);
    expect(down!.value[1]).toBe('0');
  });

  it("evaluates the project's rules, and the down target's alert becomes pending", async () => {
    const expected = (parse(readFileSync(RULES_FILE, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules.map((r) => r.alert ?? r.record!));
    type Rule = { name: string; health: string; lastError?: string };
    const rules = await waitFor(
      async () => {
        const data = await prometheus.get<{ groups: { rules: Rule[] }[] }>('/api/v1/rules');
        const all = data.groups.flatMap((g) => g.rules);
        return all.length === expected.length && all.every((r) => r.health !== 'unknown') ? all : undefined;
      },
      { timeoutMs: 30_000, describe: 'every rule evaluated once' },
    );
    expect(rules.map((r) => r.name).sort()).toEqual([...expected].sort());
    expect(rules.filter((r) => r.health !== 'ok')).toEqual([]);

    type Alert = { labels: Record<string, string>; state: string };
    const alerts = await waitFor(
      async () => {
        const { alerts } = await prometheus.get<{ alerts: Alert[] }>('/api/v1/alerts');
        return alerts.some((a) => a.labels.alertname === 'ShopstreamTargetDown') ? alerts : undefined;
      },
      { timeoutMs: 30_000, describe: 'ShopstreamTargetDown to become pending' },
    );
    const targetDown = alerts.filter((a) => a.labels.alertname === 'ShopstreamTargetDown');
    expect(targetDown).toEqual([{ ...targetDown[0], labels: expect.objectContaining({ instance: dead, job: 'shopstream', severity: 'critical' }), state: 'pending' }]);
  });

  it('shows in stack status, and a second `up` reloads new targets into the running process', async () => {
    const status = await prometheusStatus(prometheus.stack);
    expect(status).toMatchObject({ service: 'Prometheus', healthy: true, mode: 'project', address: prometheus.url, detail: '1/2 shopstream targets up' });
    expect(status.version).toMatch(/^\d+\.\d+\.\d+/);

    const pid = runningPid({ pidFile: `${prometheus.stack.dir}/run/prometheus.pid`, logFile: '', marker: prometheus.stack.dir });
    await prometheusUp({ ...prometheus.stack, prometheusTargets: [live] });
    const targets = await waitFor(
      async () => {
        const { activeTargets } = await prometheus.get<{ activeTargets: { labels: Record<string, string>; health: string }[] }>('/api/v1/targets?state=active');
        return activeTargets.length === 1 ? activeTargets : undefined;
      },
      { timeoutMs: 30_000, describe: 'the reloaded targets' },
    );
    expect(targets[0]!.labels.instance).toBe(live);
    expect(runningPid({ pidFile: `${prometheus.stack.dir}/run/prometheus.pid`, logFile: '', marker: prometheus.stack.dir })).toBe(pid);

    // An invalid configuration fails `up`, and the running Prometheus keeps the previous one.
    await expect(prometheusUp({ ...prometheus.stack, prometheusInterval: 'soon' })).rejects.toThrow(/Prometheus: the new configuration is invalid.*soon/s);
    expect((await prometheusStatus(prometheus.stack)).detail).toBe('1/1 shopstream targets up');
    await prometheusUp({ ...prometheus.stack, prometheusTargets: [live] });
  });
});

describe('Prometheus that cannot start', () => {
  it('names the port and PROMETHEUS_PORT when another process holds the port', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const dir = mkdtempSync(join(tmpdir(), 'shopstream-prometheus-'));
    try {
      const stack = resolveStackOptions({ dir, prometheusPort: (server.address() as AddressInfo).port, say: () => undefined });
      await expect(prometheusUp(stack)).rejects.toThrow(/Prometheus: port \d+ is taken by a process the stack did not start.*PROMETHEUS_PORT/);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails `up` with its log when Prometheus rejects the configuration at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shopstream-prometheus-'));
    try {
      const stack = resolveStackOptions({ dir, prometheusPort: await freePort(), prometheusInterval: 'soon', startTimeoutMs: 20_000, say: () => undefined });
      await expect(prometheusUp(stack)).rejects.toThrow(/Prometheus: did not become ready: .*exited.*prometheus\.log/);
      expect(readFileSync(join(dir, 'logs', 'prometheus.log'), 'utf8')).toMatch(/soon/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
