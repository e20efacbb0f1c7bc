import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { waitFor } from '../core/retry.js';
import { portOpen } from './net.js';
import { commandExists, run, runningPid, startDetached, stopProcess, type ManagedProcess } from './process.js';
import { StackError } from './errors.js';
import { PROJECT_ROOT, type ServiceStatus, type StackOptions } from './options.js';

const SERVICE = 'Prometheus';
/** Recording and alerting rules, the same file the distributed stack mounts (prometheus/). */
export const RULES_FILE = join(PROJECT_ROOT, 'prometheus', 'rules.yml');
/** The Prometheus job of the shopstream roles; `up{job="shopstream"}` is their scrape health. */
export const SCRAPE_JOB = 'shopstream';

function managed(options: StackOptions): ManagedProcess {
  return { pidFile: join(options.dir, 'run', 'prometheus.pid'), logFile: join(options.dir, 'logs', 'prometheus.log'), marker: options.dir };
}

export function prometheusUrl(options: StackOptions): string {
  return `http://127.0.0.1:${options.prometheusPort}`;
}

/** The configuration `stack up` writes to <stack>/prometheus/prometheus.yml. */
export function prometheusConfig(options: StackOptions): string {
  const config = {
    global: { scrape_interval: options.prometheusInterval, evaluation_interval: options.prometheusInterval },
    rule_files: [RULES_FILE],
    scrape_configs: [{ job_name: SCRAPE_JOB, metrics_path: '/metrics', static_configs: [{ targets: options.prometheusTargets }] }],
  };
  return `# Written by \`shopstream stack up\` from the configuration (PROMETHEUS_TARGETS); edits are overwritten.\n${stringify(config)}`;
}

/**
 * The project's own Prometheus (Debian's binary, run with the project's configuration, data under
 * <stack>/prometheus/data, bound to 127.0.0.1:<prometheusPort>); never the service the Debian
 * package installs. Idempotent: when it runs already, the configuration is rewritten and reloaded
 * (SIGHUP), so new targets and edited rules apply; a configuration promtool or the reload rejects
 * fails `up` and the running one is kept.
 */
export async function prometheusUp(options: StackOptions): Promise<void> {
  const proc = managed(options);
  const url = prometheusUrl(options);
  const home = join(options.dir, 'prometheus');
  const configFile = join(home, 'prometheus.yml');
  mkdirSync(home, { recursive: true });
  writeFileSync(configFile, prometheusConfig(options));
  const scraping = `scraping ${options.prometheusTargets.join(', ') || 'nothing'} every ${options.prometheusInterval}`;
  const pid = runningPid(proc);
  if (pid !== undefined) {
    await reload(options, proc, pid, configFile);
    options.say(`  ${SERVICE}: already running at ${url}; configuration reloaded (${scraping})`);
    return;
  }
  if (await portOpen('127.0.0.1', options.prometheusPort)) {
    throw new StackError(
      SERVICE,
      `port ${options.prometheusPort} is taken by a process the stack did not start (Debian's prometheus service? ` +
        'stop it with: systemctl disable --now prometheus); or set PROMETHEUS_PORT to another port',
    );
  }
  const binary = prometheusBinary();
  if (!binary) throw new StackError(SERVICE, 'not installed: apt-get install --no-install-recommends prometheus (`npm start` and `npm test` install it)', proc.logFile);
  options.say(`  ${SERVICE}: starting at ${url}`);
  startDetached(proc, binary, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(home, 'data')}`,
    '--storage.tsdb.retention.time=7d',
    `--web.listen-address=127.0.0.1:${options.prometheusPort}`,
  ]);
  await waitFor(
    async () => {
      if (runningPid(proc) === undefined) return false;
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
      return response.ok ? true : undefined;
    },
    { timeoutMs: options.startTimeoutMs, describe: `${SERVICE} at ${url}` },
  )
    .then((ok) => {
      if (!ok) throw new Error('the process exited');
    })
    .catch((error) => {
      throw new StackError(SERVICE, `did not become ready: ${error.message}`, proc.logFile);
    });
  options.say(`  ${SERVICE}: ready at ${url} (${scraping})`);
}

/**
 * Checks the new configuration with promtool (rules included), sends SIGHUP, and waits for
 * Prometheus's own metrics to report a successful reload after it.
 */
async function reload(options: StackOptions, proc: ManagedProcess, pid: number, configFile: string): Promise<void> {
  try {
    await run(promtoolBinary(), ['check', 'config', configFile]);
  } catch (error) {
    throw new StackError(SERVICE, `the new configuration is invalid, the running one is kept: ${(error as Error).message}`, proc.logFile, error);
  }
  const reloads = async () => {
    const text = await (await fetch(`${prometheusUrl(options)}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
    return { successful: metricValue(text, 'prometheus_config_last_reload_successful'), at: metricValue(text, 'prometheus_config_last_reload_success_timestamp_seconds') };
  };
  const before = await reloads().catch(() => undefined);
  const since = Math.floor(Date.now() / 1000);
  process.kill(pid, 'SIGHUP'); // as Debian's unit reloads it (ExecReload=kill -HUP)
  const outcome = await waitFor(
    async () => {
      const now = await reloads();
      if (now.successful === 1 && now.at !== undefined && now.at >= since) return 'ok';
      return before?.successful === 1 && now.successful === 0 ? 'rejected' : undefined;
    },
    { timeoutMs: Math.min(options.startTimeoutMs, 30_000), describe: `${SERVICE} to reload its configuration` },
  ).catch((error: Error) => error.message);
  if (outcome !== 'ok') throw new StackError(SERVICE, `the configuration reload failed: ${outcome}`, proc.logFile);
}

function metricValue(exposition: string, name: string): number | undefined {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(exposition);
  return match ? Number(match[1]) : undefined;
}

function prometheusBinary(): string | undefined {
  if (existsSync('/usr/bin/prometheus')) return '/usr/bin/prometheus';
  return commandExists('prometheus') ? 'prometheus' : undefined;
}

function promtoolBinary(): string {
  return existsSync('/usr/bin/promtool') ? '/usr/bin/promtool' : 'promtool';
}

export async function prometheusDown(options: StackOptions): Promise<void> {
  if (await stopProcess(managed(options))) options.say(`  ${SERVICE}: stopped`);
  else options.say(`  ${SERVICE}: not started by the stack; nothing to stop`);
}

export async function prometheusStatus(options: StackOptions): Promise<ServiceStatus> {
  const url = prometheusUrl(options);
  const pid = runningPid(managed(options));
  const base = { service: SERVICE, address: url, mode: pid ? ('project' as const) : ('external' as const) };
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
    return ((await response.json()) as { data: T }).data;
  };
  try {
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
    if (!ready.ok) return { ...base, healthy: false, detail: `/-/ready answered ${ready.status}` };
    const build = await get<{ version: string }>('/api/v1/status/buildinfo');
    const { activeTargets } = await get<{ activeTargets: { scrapePool: string; health: string }[] }>('/api/v1/targets?state=active');
    const ours = activeTargets.filter((t) => t.scrapePool === SCRAPE_JOB);
    const up = ours.filter((t) => t.health === 'up').length;
    return { ...base, healthy: true, version: build.version, detail: `${up}/${ours.length} ${SCRAPE_JOB} targets up` };
  } catch (error) {
    return { ...base, healthy: false, mode: pid ? 'project' : 'absent', detail: `not reachable: ${(error as Error).message}` };
  }
}
