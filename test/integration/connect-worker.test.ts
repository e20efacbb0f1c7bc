import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { waitFor } from '../../core/retry.js';
import { createKafka } from '../../kafka/client.js';
import { pickJdk } from '../../stack/java.js';
import { runMaven } from '../../stack/maven.js';
import { resolveStackOptions } from '../../stack/options.js';
import { entry, uniqueId } from '../support/env.js';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const compose = parse(readFileSync(root('docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { environment?: Record<string, unknown>; command?: string[] }>;
};
const sinkConfig = JSON.parse(readFileSync(root('connect/clickhouse-sink.config.json'), 'utf8')) as Record<string, string>;

/** The worker settings of the `connect` service that decide what sinks read: CONNECT_X_Y → x.y. */
function workerSettings(): Record<string, string> {
  const env = compose.services.connect!.environment!;
  const wanted = Object.keys(env).filter((key) => key.startsWith('CONNECT_CONSUMER_') || key === 'CONNECT_CONNECTOR_CLIENT_CONFIG_OVERRIDE_POLICY');
  return Object.fromEntries(wanted.map((key) => [key.slice('CONNECT_'.length).toLowerCase().replaceAll('_', '.'), String(env[key])]));
}

/** The JMX exporter agent's Maven coordinates, as the stack's `connect-metrics-agent` fetches it. */
function agentArtifact(): string {
  const command = Object.values(compose.services).flatMap((s) => s.command ?? []);
  return command.find((arg) => arg.startsWith('-Dartifact=io.prometheus.jmx:jmx_prometheus_javaagent:'))!.slice('-Dartifact='.length);
}

/** The Connect runtime and the agent, from Maven Central, cached in the stack folder. */
async function resolveWorker(kafkaVersion: string): Promise<{ libs: string; agent: string }> {
  const dir = join(resolveStackOptions().dir, 'connect-worker', kafkaVersion);
  const [libs, agents] = [join(dir, 'libs'), join(dir, 'agent')];
  const marker = join(dir, `.resolved-${agentArtifact().split(':').pop()}`);
  if (!existsSync(marker)) {
    mkdirSync(dir, { recursive: true });
    const log = join(dir, 'maven.log');
    const pom = root('test/support/connect-worker/pom.xml');
    await runMaven('Kafka Connect', log, pom, ['dependency:copy-dependencies'], { 'kafka.version': kafkaVersion, outputDirectory: libs, includeScope: 'runtime' });
    await runMaven('Kafka Connect', log, pom, ['dependency:copy'], { artifact: agentArtifact(), outputDirectory: agents, 'mdep.stripVersion': 'true' });
    writeFileSync(marker, new Date().toISOString());
  }
  return { libs, agent: join(agents, 'jmx_prometheus_javaagent.jar') };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The distributed stack's Kafka Connect settings on the real Connect runtime (from Maven Central)
 * and the local Kafka: the sink's `consumer.override.*` and `errors.*` settings (from
 * connect/clickhouse-sink.config.json, on the FileStreamSink, since the ClickHouse sink is not on
 * Maven Central), the worker's override policy and consumer settings (docker-compose.yml), and
 * the JMX exporter agent with connect/jmx-exporter.yml. The topic holds committed records, an
 * aborted transaction's records (what a stream transaction that failed leaves behind) and a
 * record that does not convert. Loaded: only the committed records; the bad one dead-lettered
 * with its context, and counted by the metric the alert watches.
 */
describe('Kafka Connect with the stack\'s settings', () => {
  const id = uniqueId();
  const [topic, deadLetters, connector] = [`t${id}.connect-source`, `t${id}.connect-dead-letter`, `t${id}-sink`];
  const work = mkdtempSync(join(tmpdir(), 'shopstream-connect-'));
  const output = join(work, 'sink.txt');
  const kafka = createKafka(entry.kafka);
  let worker: ChildProcess | undefined;
  let metricsPort = 0;

  beforeAll(async () => {
    const jdk = pickJdk(17);
    if (!jdk) throw new Error('Kafka Connect needs Java 17 or newer (the local stack runs Kafka on it)');
    const { libs, agent } = await resolveWorker(resolveStackOptions().kafkaVersion);

    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [topic, deadLetters].map((name) => ({ topic: name, numPartitions: 1, replicationFactor: 1 })) });
    await admin.disconnect();
    const producer = kafka.producer({ kafkaJS: { transactionalId: `t${id}-connect-check`, idempotent: true, maxInFlightRequests: 1 } });
    await producer.connect();
    const transaction = async (values: string[], commit: boolean) => {
      const tx = await producer.transaction();
      await tx.send({ topic, messages: values.map((value) => ({ key: 'k', value })) });
      await (commit ? tx.commit() : tx.abort());
    };
    await transaction(['{"n":1}', '{"n":2}'], true);
    await transaction(['{"n":"aborted-1"}', '{"n":"aborted-2"}'], false);
    await transaction(['not json', '{"n":3}'], true);
    await producer.disconnect();

    metricsPort = await freePort();
    const properties = (values: Record<string, string>) => Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n');
    writeFileSync(
      join(work, 'worker.properties'),
      properties({
        'bootstrap.servers': entry.kafka.brokers.join(','),
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'offset.storage.file.filename': join(work, 'offsets'),
        'offset.flush.interval.ms': '1000',
        listeners: `http://127.0.0.1:${await freePort()}`,
        ...workerSettings(),
      }),
    );
    const stackSettings = Object.fromEntries(Object.entries(sinkConfig).filter(([key]) => key.startsWith('consumer.override.') || key.startsWith('errors.')));
    writeFileSync(
      join(work, 'sink.properties'),
      properties({
        ...stackSettings,
        'errors.deadletterqueue.topic.name': deadLetters,
        'errors.deadletterqueue.topic.replication.factor': '1',
        name: connector,
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
        topics: topic,
        file: output,
      }),
    );
    const log = openSync(join(work, 'worker.log'), 'a');
    worker = spawn(
      jdk.java,
      [
        `-javaagent:${agent}=${metricsPort}:${root('connect/jmx-exporter.yml')}`,
        '-cp',
        `${libs}/*`,
        'org.apache.kafka.connect.cli.ConnectStandalone',
        join(work, 'worker.properties'),
        join(work, 'sink.properties'),
      ],
      { stdio: ['ignore', log, log] },
    );
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (worker.exitCode === null) worker.kill('SIGKILL');
    }
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, deadLetters] }).catch(() => undefined);
    await admin.disconnect();
    rmSync(work, { recursive: true, force: true });
  });

  const metrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text(), () => ''));
  const deadLetterCount = async () => {
    const line = (await metrics()).split('\n').find((l) => l.startsWith('kafka_connect_task_error_metrics_deadletterqueue_produce_requests{') && l.includes(`connector="${connector}"`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };

  it('loads committed records only, dead-letters the one that does not convert, and counts it for the alert', async () => {
    const loaded = () => (existsSync(output) ? readFileSync(output, 'utf8').trim().split('\n').filter(Boolean) : []);
    await waitFor(async () => (loaded().length >= 3 && (await deadLetterCount()) === 1 ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 500,
      describe: `the worker to load 3 records and dead-letter 1 (log: ${join(work, 'worker.log')})`,
    });
    expect(loaded()).toEqual(['{n=1}', '{n=2}', '{n=3}']);

    const consumer = kafka.consumer({ kafkaJS: { groupId: `t${id}-dead-letters`, fromBeginning: true } });
    const dead: { value: string; headers: Record<string, string> }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [deadLetters] });
    await consumer.run({
      eachMessage: async ({ message }) => {
        dead.push({ value: String(message.value), headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])) });
      },
    });
    await waitFor(async () => (dead.length > 0 ? true : undefined), { timeoutMs: 30_000, describe: 'the dead letter' });
    await consumer.disconnect();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.value).toBe('not json');
    expect(dead[0]!.headers).toMatchObject({ '__connect.errors.topic': topic, '__connect.errors.partition': '0', '__connect.errors.stage': 'VALUE_CONVERTER' });

    // The series the dead-letter alert sums, and a running task.
    const rules = parse(readFileSync(root('prometheus/rules.yml'), 'utf8')) as { groups: { rules: { alert?: string; expr: string }[] }[] };
    const alert = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === 'ShopstreamConnectDeadLetters')!;
    expect(alert.expr).toContain('kafka_connect_task_error_metrics_deadletterqueue_produce_requests');
    expect(await metrics()).toContain(`kafka_connect_connector_task_status{connector="${connector}",status="running",task="0"} 1.0`);
  });
});
