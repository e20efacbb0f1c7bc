import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configFromEnv, ENV_VARS } from '../../cli/config.js';
import { ROLES } from '../../cli/pipeline.js';
import { topicNames, topicSpecs } from '../../kafka/topics.js';
import { loadedTables } from '../../sink/clickhouse-sink.js';
import { resolveStackOptions } from '../../stack/options.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
type ComposeService = {
  environment?: Record<string, unknown>;
  ports?: string[];
  command?: string[];
  image?: string;
  build?: string;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
};
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
const services = compose.services;
const connect = JSON.parse(read('connect/clickhouse-sink.config.json')) as Record<string, string>;
const appServices = Object.entries(services).filter(([, s]) => s.build === '.');
const appEnv = appServices[0]![1].environment as Record<string, string>;
const defaults = resolveStackOptions();
const topics = topicNames();

function hostPort(service: string, containerPort: number): number {
  const mapping = services[service]!.ports!.find((p) => p.endsWith(`:${containerPort}`));
  expect(mapping, `${service} publishes ${containerPort}`).toBeDefined();
  return Number(mapping!.split(':')[0]);
}

describe('docker-compose.yml (the distributed stack)', () => {
  it('has every part of the design', () => {
    for (const name of ['kafka-1', 'kafka-2', 'kafka-3', 'schema-registry', 'connect', 'connect-init', 'clickhouse', 'mysql', 'prometheus', 'grafana', 'api', 'relay', 'streams']) {
      expect(services, name).toHaveProperty(name);
    }
    expect(services['kafka-1']!.environment!.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(String(services['kafka-1']!.environment!.KAFKA_CONTROLLER_QUORUM_VOTERS).split(',')).toHaveLength(3);
    expect(services['kafka-1']!.environment!.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
  });

  it('runs application roles the CLI knows, with only the environment variables the code reads', () => {
    for (const [name, service] of appServices) {
      const roles = service.command![service.command!.indexOf('--roles') + 1]!.split(',');
      expect(roles.every((role) => (ROLES as readonly string[]).includes(role)), name).toBe(true);
      for (const key of Object.keys(service.environment ?? {})) expect(Object.keys(ENV_VARS), `${name}: ${key}`).toContain(key);
    }
    expect(appServices.map(([, s]) => s.command!.join(' ')).join(' ')).not.toMatch(/\bsink\b/); // Connect loads ClickHouse there
    expect(Number(appEnv.KAFKA_REPLICATION_FACTOR)).toBe(3);
  });

  it('reports the consumer lag of Kafka Connect\'s sink group from one monitor role', () => {
    const monitors = appServices.filter(([, s]) => s.command![s.command!.indexOf('--roles') + 1]!.split(',').includes('monitor'));
    expect(monitors).toHaveLength(1);
    const connector = /connectors\/([^/\s]+)\/config/.exec(services['connect-init']!.command!.join(' '))![1];
    expect(String(monitors[0]![1].environment!.MONITOR_GROUPS).split(',')).toContain(`connect-${connector}`);
  });

  it('points the application at the services that exist, on their listening ports', () => {
    for (const broker of appEnv.KAFKA_BROKERS!.split(',')) {
      const [host, port] = broker.split(':');
      expect(services, broker).toHaveProperty(host!);
      expect(String(services[host!]!.environment!.KAFKA_LISTENERS)).toContain(`INTERNAL://:${port}`);
    }
    const registry = new URL(appEnv.SCHEMA_REGISTRY_URL!);
    expect(registry.hostname).toBe('schema-registry');
    expect(hostPort('schema-registry', Number(registry.port))).toBe(Number(new URL(defaults.registryUrl).port));
    expect(registry.pathname).toBe(new URL(defaults.registryUrl).pathname);
    expect(new URL(appEnv.MYSQL_URL!).hostname).toBe('mysql');
    expect(new URL(appEnv.MYSQL_URL!).pathname.slice(1)).toBe(services.mysql!.environment!.MYSQL_DATABASE);
    expect(new URL(appEnv.CLICKHOUSE_URL!).hostname).toBe('clickhouse');
    // Published host ports are the defaults of a local run, so tools work against either.
    expect(hostPort('api', Number(appEnv.PORT))).toBe(3000);
    expect(hostPort('kafka-1', 9092)).toBe(Number(defaults.kafkaBroker.split(':')[1]));
    expect(hostPort('mysql', 3306)).toBe(Number(new URL(defaults.mysqlUrl).port));
  });

  it('scrapes every application role, and the Connect worker', () => {
    const prometheus = parse(read('prometheus/prometheus.yml')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const targetsOf = (job: string) => prometheus.scrape_configs.filter((c) => c.job_name === job).flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    expect(targetsOf('shopstream').sort()).toEqual(appServices.map(([name]) => `${name}:${appEnv.PORT}`).sort());
    expect(targetsOf('connect')).toEqual([`connect:${connectAgent().port}`]);
  });
});

describe('connect/ (the ClickHouse Kafka Connect sink)', () => {
  const tableOf = Object.fromEntries(connect['topic2TableMap']!.split(',').map((pair) => pair.split('=')));

  it('reads the derived topics and writes their tables, dead letters to the project topic', () => {
    // The same topics and tables as the built-in sink.
    expect(connect['topics']!.split(',').sort()).toEqual(Object.keys(loadedTables(topics)).sort());
    expect(tableOf).toEqual(loadedTables(topics));
    expect(connect['errors.deadletterqueue.topic.name']).toBe(topics.deadLetter);
    expect(connect['database']).toBe(appEnv.CLICKHOUSE_DATABASE);
    expect(connect['value.converter.schema.registry.url']).toBe(appEnv.SCHEMA_REGISTRY_URL);
    expect(connect['exactlyOnce']).toBe('true');
  });

  it('loads committed records only: aborted stream transactions would be loaded twice', () => {
    expect(connect['consumer.override.isolation.level']).toBe('read_committed');
    const worker = services.connect!.environment!;
    // `Principal` lets a connector override only SASL settings; `None` nothing.
    expect(worker.CONNECT_CONNECTOR_CLIENT_CONFIG_OVERRIDE_POLICY).toBe('All');
    expect(worker.CONNECT_CONSUMER_ISOLATION_LEVEL).toBe('read_committed');
  });

  it('never drops a failed record silently: it stops the task, or goes to the dead-letter topic, logged and alerted on', () => {
    expect(['none', 'all']).toContain(connect['errors.tolerance'] ?? 'none');
    if (connect['errors.tolerance'] === 'all') {
      expect(connect['errors.deadletterqueue.topic.name']).toBe(topics.deadLetter);
      expect(connect['errors.deadletterqueue.context.headers.enable']).toBe('true');
      expect(connect['errors.log.enable']).toBe('true');
      expect(Number(connect['errors.deadletterqueue.topic.replication.factor'])).toBe(Number(appEnv.KAFKA_REPLICATION_FACTOR));
      // The project creates the dead-letter topic (with its partitions and configs) before the
      // connector starts: connect-init waits for a healthy api, which has created every topic.
      const layout = configFromEnv(appEnv as NodeJS.ProcessEnv).topicLayout;
      expect(topicSpecs(topics, layout).find((spec) => spec.name === topics.deadLetter)).toMatchObject({ replicationFactor: 3 });
      expect(services['connect-init']!.depends_on!.api!.condition).toBe('service_healthy');
      expect(services.api!.healthcheck!.test.join(' ')).toContain(`:${appEnv.PORT}/healthz`);
      const rules = parse(read('prometheus/rules.yml')) as { groups: { rules: { alert?: string; expr: string; labels?: Record<string, string> }[] }[] };
      const deadLetterAlert = rules.groups.flatMap((g) => g.rules).find((r) => r.alert && /\bkafka_connect_task_error_metrics_deadletterqueue_produce_requests\b/.test(r.expr));
      expect(deadLetterAlert, 'an alert on dead-lettered records').toBeDefined();
      expect(deadLetterAlert!.labels?.severity).toBe('critical');
      expect(exportedName('kafka.connect<type=task-error-metrics, connector=shopstream-clickhouse-sink, task=0><>deadletterqueue-produce-requests')).toBe(
        'kafka_connect_task_error_metrics_deadletterqueue_produce_requests',
      );
    }
  });

  it('exports the worker\'s task metrics through the JMX exporter agent, fetched from Maven Central', () => {
    const agent = connectAgent();
    const mounted = (service: string, path: string) => services[service]!.volumes!.find((v) => v.split(':')[1] === path)?.split(':')[0];
    expect(mounted('connect', agent.config)).toBe('./connect/jmx-exporter.yml');
    const volume = mounted('connect', dirname(agent.jar))!;
    expect(compose.volumes).toHaveProperty(volume);
    const fetcher = Object.entries(services).find(([, s]) => s.volumes?.some((v) => v.startsWith(`${volume}:`)) && s.command?.some((c) => c.startsWith('-Dartifact=io.prometheus.jmx:jmx_prometheus_javaagent:')));
    expect(fetcher, 'a service fetching the agent into the volume').toBeDefined();
    expect(fetcher![1].command).toContain(`-DoutputDirectory=${dirname(agent.jar)}`);
    expect(fetcher![1].command).toContain('-Dmdep.stripVersion=true');
    expect(basename(agent.jar)).toBe('jmx_prometheus_javaagent.jar');
    expect(services.connect!.depends_on![fetcher![0]]!.condition).toBe('service_completed_successfully');
  });
});

/** The JMX exporter agent of the Connect worker: `-javaagent:<jar>=<port>:<config>` in KAFKA_OPTS. */
function connectAgent(): { jar: string; port: number; config: string } {
  const match = /-javaagent:(\S+?\.jar)=(\d+):(\S+)/.exec(String(services.connect!.environment!.KAFKA_OPTS));
  expect(match, 'KAFKA_OPTS of connect loads the agent').not.toBeNull();
  return { jar: match![1]!, port: Number(match![2]), config: match![3]! };
}

/** The name connect/jmx-exporter.yml gives an MBean attribute (as the agent does: first matching rule, lower case, `-` → `_`). */
function exportedName(attribute: string): string | undefined {
  const exporter = parse(read('connect/jmx-exporter.yml')) as { lowercaseOutputName?: boolean; rules: { pattern: string; name: string }[] };
  for (const rule of exporter.rules) {
    const match = new RegExp(`^${rule.pattern}`).exec(attribute);
    if (!match) continue;
    const name = rule.name.replace(/\$(\d+)/g, (_, i: string) => match[Number(i)] ?? '').replace(/[^a-zA-Z0-9_:]/g, '_');
    return exporter.lowercaseOutputName ? name.toLowerCase() : name;
  }
  return undefined;
}

describe('configuration', () => {
  it('reads only documented environment variables, and the README documents each', () => {
    const read_ = [...read('cli/config.ts').matchAll(/env(?:\.|, ')([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!);
    expect(new Set(read_)).toEqual(new Set(Object.keys(ENV_VARS)));
    const readme = read('README.md');
    for (const name of Object.keys(ENV_VARS)) expect(readme, name).toContain(`\`${name}\``);
  });
});
