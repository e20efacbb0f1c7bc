import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARS } from '../../cli/config.js';
import { ROLES } from '../../cli/pipeline.js';
import { topicNames } from '../../kafka/topics.js';
import { resolveStackOptions } from '../../stack/options.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, { environment?: Record<string, unknown>; ports?: string[]; command?: string[]; image?: string; build?: string }>;
};
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

  it('scrapes every application role', () => {
    const prometheus = parse(read('prometheus/prometheus.yml')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
    const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    expect(targets.sort()).toEqual(appServices.map(([name]) => `${name}:${appEnv.PORT}`).sort());
  });
});

describe('connect/ (the ClickHouse Kafka Connect sink)', () => {
  const tableOf = Object.fromEntries(connect['topic2TableMap']!.split(',').map((pair) => pair.split('=')));

  it('reads the derived topics and writes their tables, dead letters to the project topic', () => {
    expect(connect['topics']!.split(',').sort()).toEqual([topics.ordersEnriched, topics.orderChanges].sort());
    expect(tableOf).toEqual({ [topics.ordersEnriched]: 'orders', [topics.orderChanges]: 'order_changes' });
    expect(connect['errors.deadletterqueue.topic.name']).toBe(topics.deadLetter);
    expect(connect['database']).toBe(appEnv.CLICKHOUSE_DATABASE);
    expect(connect['value.converter.schema.registry.url']).toBe(appEnv.SCHEMA_REGISTRY_URL);
    expect(connect['exactlyOnce']).toBe('true');
  });
});

describe('configuration', () => {
  it('reads only documented environment variables, and the README documents each', () => {
    const read_ = [...read('cli/config.ts').matchAll(/env(?:\.|, ')([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!);
    expect(new Set(read_)).toEqual(new Set(Object.keys(ENV_VARS)));
    const readme = read('README.md');
    for (const name of Object.keys(ENV_VARS)) expect(readme, name).toContain(`\`${name}\``);
  });
});
