import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The project folder (the one holding package.json). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

/**
 * Options of the local stack (`shopstream stack up|down|status`). Every port comes from the URL
 * the application itself uses, so the two can never disagree.
 */
export interface StackOptions {
  /** Data, logs and pid files of every local service. Default `<project>/.stack` (git-ignored). */
  dir: string;
  /** Administrative MySQL URL, used to create the database and the application user.
   *  Default mysql://root@127.0.0.1:3306 (the local root without password). */
  mysqlAdminUrl: string;
  /** The application's MySQL URL; its user, password and database are created by `stack up`.
   *  Default mysql://shopstream:shopstream@127.0.0.1:3306/shopstream. */
  mysqlUrl: string;
  /** Kafka bootstrap address `host:port` the broker listens on. Default 127.0.0.1:9092. */
  kafkaBroker: string;
  /** KRaft controller port of the local broker. Default 9093. */
  kafkaControllerPort: number;
  /** Apache Kafka version resolved from Maven Central. Default 4.1.1. */
  kafkaVersion: string;
  /** Heap of the broker JVM in MiB. Default 768. */
  kafkaHeapMb: number;
  /** Confluent-compatible Schema Registry URL. Default http://127.0.0.1:8081/apis/ccompat/v7. */
  registryUrl: string;
  /** Apicurio Registry version; default chosen by the newest JDK found: 3.3.3 on Java 21+,
   *  3.0.9 on Java 17. */
  registryVersion: string | undefined;
  /** Heap of the registry JVM in MiB. Default 384. */
  registryHeapMb: number;
  /** ClickHouse server URL; when unset the embedded engine (chdb) is used. */
  clickhouseUrl: string | undefined;
  /** Data folder of the embedded engine. Default `<dir>/clickhouse`. */
  clickhousePath: string;
  /** Port of the project's Prometheus (bound to 127.0.0.1). Default 9090. */
  prometheusPort: number;
  /** `host:port` of the shopstream roles Prometheus scrapes (job `shopstream`, `/metrics`).
   *  Default localhost:3000, the pipeline's default PORT. */
  prometheusTargets: string[];
  /** Scrape and rule evaluation interval of the project's Prometheus. Default 5s. */
  prometheusInterval: string;
  /** How long each service may take to become ready. Default 120 s. */
  startTimeoutMs: number;
  /** Progress lines go here. Default: stdout. */
  say: (line: string) => void;
}

export function resolveStackOptions(partial: Partial<StackOptions> = {}): StackOptions {
  const dir = partial.dir ?? join(PROJECT_ROOT, '.stack');
  return {
    dir,
    mysqlAdminUrl: partial.mysqlAdminUrl ?? 'mysql://root@127.0.0.1:3306',
    mysqlUrl: partial.mysqlUrl ?? 'mysql://shopstream:shopstream@127.0.0.1:3306/shopstream',
    kafkaBroker: partial.kafkaBroker ?? '127.0.0.1:9092',
    kafkaControllerPort: partial.kafkaControllerPort ?? 9093,
    kafkaVersion: partial.kafkaVersion ?? '4.1.1',
    kafkaHeapMb: partial.kafkaHeapMb ?? 768,
    registryUrl: partial.registryUrl ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
    registryVersion: partial.registryVersion,
    registryHeapMb: partial.registryHeapMb ?? 384,
    clickhouseUrl: partial.clickhouseUrl,
    clickhousePath: partial.clickhousePath ?? join(dir, 'clickhouse'),
    prometheusPort: partial.prometheusPort ?? 9090,
    prometheusTargets: partial.prometheusTargets ?? ['localhost:3000'],
    prometheusInterval: partial.prometheusInterval ?? '5s',
    startTimeoutMs: partial.startTimeoutMs ?? 120_000,
    say: partial.say ?? ((line) => process.stdout.write(`${line}\n`)),
  };
}

/** Host and port of `host:port` or of a URL (`mysql://user@host:port/db`, `http://host:port/path`). */
export function hostPort(address: string, defaultPort: number): { host: string; port: number } {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  return { host: url.hostname || '127.0.0.1', port: url.port ? Number(url.port) : defaultPort };
}

/** Status of one service as `stack status` prints it. */
export interface ServiceStatus {
  service: string;
  healthy: boolean;
  address: string;
  version?: string;
  /** `project` (started by the stack), `external` (found running), `embedded` (in-process). */
  mode: 'project' | 'external' | 'embedded' | 'absent';
  detail?: string;
}
