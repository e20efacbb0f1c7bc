import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { waitFor } from '../core/retry.js';
import { pickJdk } from './java.js';
import { mavenPom, runMaven } from './maven.js';
import { portOpen } from './net.js';
import { run, runningPid, startDetached, stopProcess, type ManagedProcess } from './process.js';
import { StackError } from './errors.js';
import { hostPort, type ServiceStatus, type StackOptions } from './options.js';

const SERVICE = 'Kafka';

function managed(options: StackOptions): ManagedProcess {
  return { pidFile: join(options.dir, 'run', 'kafka.pid'), logFile: join(options.dir, 'logs', 'kafka.log'), marker: options.dir };
}

/**
 * An Apache Kafka broker in KRaft combined mode (broker + controller, node 1), run on the JVM
 * from its Maven Central jars. Storage is formatted on first start; automatic topic creation is
 * off (the project creates its topics with explicit partitions and configs). Idempotent.
 */
export async function kafkaUp(options: StackOptions): Promise<void> {
  const proc = managed(options);
  const { host, port } = hostPort(options.kafkaBroker, 9092);
  if (runningPid(proc)) {
    options.say(`  ${SERVICE}: already running at ${host}:${port}`);
    return;
  }
  if (await portOpen(host, port)) {
    options.say(`  ${SERVICE}: using the broker already listening at ${host}:${port}`);
    return;
  }
  const jdk = pickJdk(17);
  if (!jdk) throw new StackError(SERVICE, 'needs Java 17 or newer (apt-get install openjdk-17-jre-headless)', proc.logFile);
  const libDir = await resolveJars(options, proc);
  const home = join(options.dir, 'kafka');
  const dataDir = join(home, 'data');
  const config = writeConfig(options, home, dataDir, proc.logFile);
  const classpath = `${libDir}/*`;
  const jvm = [`-Dlog4j2.configurationFile=${config.log4j}`, '-cp', classpath];
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    options.say(`  ${SERVICE}: formatting KRaft storage in ${dataDir}`);
    const clusterId = newClusterId();
    try {
      await run(jdk.java, [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', config.server]);
    } catch (error) {
      throw new StackError(SERVICE, `could not format storage: ${(error as Error).message}`, proc.logFile, error);
    }
  }
  options.say(`  ${SERVICE}: starting broker ${options.kafkaVersion} at ${host}:${port} (Java ${jdk.major})`);
  startDetached(proc, jdk.java, [
    `-Xms${Math.min(256, options.kafkaHeapMb)}m`,
    `-Xmx${options.kafkaHeapMb}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${join(options.dir, 'logs')}`,
    ...jvm,
    'kafka.Kafka',
    config.server,
  ]);
  await waitFor(async () => ((await portOpen(host, port)) ? true : runningPid(proc) ? undefined : false), {
    timeoutMs: options.startTimeoutMs,
    describe: `${SERVICE} at ${host}:${port}`,
  })
    .then((ok) => {
      if (!ok) throw new Error('the broker process exited');
    })
    .catch((error) => {
      throw new StackError(SERVICE, `did not become ready: ${error.message}`, proc.logFile);
    });
  options.say(`  ${SERVICE}: ready`);
}

async function resolveJars(options: StackOptions, proc: ManagedProcess): Promise<string> {
  const libDir = join(options.dir, 'kafka', `lib-${options.kafkaVersion}`);
  const marker = join(libDir, '.complete');
  if (existsSync(marker)) return libDir;
  options.say(`  ${SERVICE}: resolving Apache Kafka ${options.kafkaVersion} from Maven Central`);
  mkdirSync(libDir, { recursive: true });
  await runMaven(SERVICE, proc.logFile, mavenPom('kafka'), ['dependency:copy-dependencies'], {
    'kafka.version': options.kafkaVersion,
    outputDirectory: libDir,
    includeScope: 'runtime',
  });
  if (!readdirSync(libDir).some((file) => file.startsWith(`kafka_2.13-${options.kafkaVersion}`))) {
    throw new StackError(SERVICE, `Maven did not produce kafka_2.13-${options.kafkaVersion}.jar in ${libDir}`, proc.logFile);
  }
  writeFileSync(marker, new Date().toISOString());
  return libDir;
}

function writeConfig(options: StackOptions, home: string, dataDir: string, logFile: string): { server: string; log4j: string } {
  const { host, port } = hostPort(options.kafkaBroker, 9092);
  const controller = options.kafkaControllerPort;
  mkdirSync(home, { recursive: true });
  const server = join(home, 'server.properties');
  writeFileSync(
    server,
    [
      '# Written by `shopstream stack up`; edits are overwritten.',
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@${host}:${controller}`,
      `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controller}`,
      `advertised.listeners=PLAINTEXT://${host}:${port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${dataDir}`,
      'auto.create.topics.enable=false',
      'num.partitions=1',
      'default.replication.factor=1',
      'min.insync.replicas=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=10',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=10',
      // A dead instance's open transaction is aborted within a second of timing out (default 10 s):
      // read_committed readers and changelog restores wait for it.
      'transaction.abort.timed.out.transaction.cleanup.interval.ms=1000',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'num.network.threads=3',
      'num.io.threads=4',
      'log.retention.hours=168',
      '',
    ].join('\n'),
  );
  const log4j = join(home, 'log4j2.properties');
  writeFileSync(
    log4j,
    [
      'rootLogger.level=INFO',
      'rootLogger.appenderRef.file.ref=file',
      'appender.file.type=File',
      'appender.file.name=file',
      `appender.file.fileName=${logFile}`,
      'appender.file.layout.type=PatternLayout',
      'appender.file.layout.pattern=[%d] %p %m (%c)%n',
      'logger.state.name=state.change.logger',
      'logger.state.level=WARN',
      '',
    ].join('\n'),
  );
  return { server, log4j };
}

export async function kafkaDown(options: StackOptions): Promise<void> {
  if (await stopProcess(managed(options), 60_000)) options.say(`  ${SERVICE}: stopped`);
  else options.say(`  ${SERVICE}: not started by the stack; nothing to stop`);
}

export async function kafkaStatus(options: StackOptions, probe: (broker: string) => Promise<string | undefined>): Promise<ServiceStatus> {
  const { host, port } = hostPort(options.kafkaBroker, 9092);
  const detail = await probe(options.kafkaBroker).catch((error: Error) => `unhealthy: ${error.message}`);
  const healthy = detail !== undefined && !detail.startsWith('unhealthy');
  return {
    service: SERVICE,
    healthy,
    address: `${host}:${port}`,
    version: runningPid(managed(options)) ? options.kafkaVersion : undefined,
    mode: runningPid(managed(options)) ? 'project' : healthy ? 'external' : 'absent',
    detail: detail ?? 'not reachable',
  };
}

/**
 * A KRaft cluster id: 16 random bytes, base64url. Like Kafka's own Uuid.randomUuid, never one
 * that starts with '-', which the storage tool's argument parser would take for an option.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
