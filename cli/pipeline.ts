import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Pool } from 'mysql2/promise';
import { createApp, type ApiOptions } from '../api/app.js';
import type { ReadinessCheck } from '../api/ports.js';
import { CanaryEmitter, DEFAULT_CANARY_EMITTER_OPTIONS, type CanaryEmitterOptions } from '../canary/emitter.js';
import { CanaryWatcher, type CanaryWatcherOptions } from '../canary/watcher.js';
import { ClickHouseAnalytics } from '../clickhouse/analytics.js';
import { ClickHouseCanaryArrivals } from '../clickhouse/canary.js';
import { createClickHouse, type ClickHouseOptions } from '../clickhouse/client.js';
import { migrateClickHouse } from '../clickhouse/migrate.js';
import { DeletedOrderPurger } from '../clickhouse/purge.js';
import { ClickHouseAnalyticsWriter } from '../clickhouse/writer.js';
import { createLogger } from '../core/log.js';
import { gatedReads, SwapGate } from '../core/swap-gate.js';
import { Supervisor, type RoleStatus, type SupervisedRole, type SupervisorOptions } from '../core/supervisor.js';
import { createKafka, kafkaErrorCode, kafkaReadiness, type KafkaOptions } from '../kafka/client.js';
import { retry } from '../core/retry.js';
import { KafkaOutboxPublisher } from '../kafka/outbox-publisher.js';
import { baseTopicName, ensureTopics, TOPIC_KEYS, topicNames, topicSpecs, type TopicLayout, type TopicNames } from '../kafka/topics.js';
import { KafkaLagSource } from '../kafka/lag-source.js';
import { PrometheusMetrics } from '../metrics/prometheus.js';
import { LagCollector, type LagCollectorOptions } from '../monitoring/lag-collector.js';
import { PipelineHealth } from '../monitoring/pipeline-health.js';
import { LiveFeed } from '../api/live.js';
import { migrateMysql } from '../mysql/migrate.js';
import { mysqlOrderStore } from '../mysql/order-store.js';
import { mysqlOutboxStore } from '../mysql/outbox-store.js';
import { mysqlHeartbeatLog } from '../mysql/canary-store.js';
import { createMysqlPool, databaseOf, type MysqlOptions } from '../mysql/pool.js';
import { mysqlRateLimitStore } from '../mysql/rate-limit-store.js';
import { DemoTraffic, seedDemo, type DemoHistoryOptions } from '../demo/index.js';
import { IdempotencyKeyPurger } from '../orders/idempotency-retention.js';
import type { OrderServiceDeps } from '../orders/deps.js';
import { mysqlAdminStore } from '../mysql/admin-store.js';
import type { RateLimitOptions } from '../api/rate-limit.js';
import { AvroRegistry } from '../registry/avro-registry.js';
import { OutboxRelay, type RelayOptions } from '../relay/relay.js';
import { ClickHouseSink } from '../sink/clickhouse-sink.js';
import { KafkaStreams } from '../streams/kafka-streams.js';
import { buildShopstreamTopology, registrySerdes } from '../streams/shopstream/topology.js';
import type { Replay, ReplayOptions } from '../replay/replay.js';
import { InProcessOpsJobs } from './ops-jobs.js';
import { runReconcile } from './reconcile-command.js';
import { runReplay } from './replay-command.js';
import { changelogTopics, committedOffsets, createReplay, replayManifest, resetStreamsApplication } from './replay-wiring.js';
import { holdsSink } from '../replay/manifest.js';
import type { ServiceConnections } from './connections.js';

export const ROLES = ['api', 'relay', 'streams', 'sink', 'monitor'] as const;

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
export type Role = (typeof ROLES)[number];


export type { ServiceConnections };

export interface PipelineConfig extends ServiceConnections {
  roles: readonly Role[];
  /** HTTP port (0 picks a free one); undefined serves no HTTP. */
  httpPort: number | undefined;
  httpHost: string;
  /**
   * The demo (demo/index.ts): the demo catalog and users when the database has no users, and a
   * few weeks of order history while it holds no order (`demoHistory`, defaults:
   * DEFAULT_DEMO_HISTORY_OPTIONS).
   */
  seedDemo: boolean;
  demoHistory?: Partial<DemoHistoryOptions>;
  /** With `seedDemo`: a light live trickle of demo orders (DemoTraffic) until `stop`. Default false. */
  demoTraffic?: boolean;
  /** Per-client write limit of the API. */
  writeRateLimit: RateLimitOptions;
  /** Where the write limit counts: this process (default) or MySQL, shared by every API replica. */
  rateLimitStore?: 'memory' | 'mysql';
  /** Express `trust proxy` of the API (default false). */
  trustProxy?: ApiOptions['trustProxy'];
  /** Relay settings other than instrumentation (defaults: DEFAULT_RELAY_OPTIONS). */
  relay?: Partial<Omit<RelayOptions, 'metrics' | 'logger'>>;
  /**
   * Restarts of the streams and sink roles after a fatal error (they run under an in-process
   * Supervisor; defaults: DEFAULT_SUPERVISOR_OPTIONS, 1 s doubling to 60 s).
   */
  restart?: Partial<Pick<SupervisorOptions, 'initialDelayMs' | 'maxDelayMs' | 'resetAfterMs'>>;
  /**
   * The monitor role's lag collector: `groups` are watched besides the pipeline's own
   * (`<groupPrefix>-streams`, `<groupPrefix>-sink`); other settings: DEFAULT_LAG_COLLECTOR_OPTIONS.
   */
  monitor?: Partial<Omit<LagCollectorOptions, 'metrics' | 'logger' | 'now'>>;
  /**
   * The canary: a process with the relay role emits a heartbeat every `intervalMs` (0 turns the
   * canary off), one with the api role watches them arrive in ClickHouse (its /readyz check
   * `canary`). Defaults: DEFAULT_CANARY_EMITTER_OPTIONS, DEFAULT_CANARY_WATCHER_OPTIONS.
   */
  canary?: Partial<Pick<CanaryEmitterOptions, 'intervalMs'> & Pick<CanaryWatcherOptions, 'lostAfterMs' | 'staleAfterMs' | 'pollMs'>>;
}

export interface Pipeline {
  readonly roles: readonly Role[];
  readonly topics: TopicNames;
  /** Base URL of the HTTP server, when one runs. */
  readonly url: string | undefined;
  readonly pool: Pool | undefined;
  readonly clickhouse: ClickHouseClient | undefined;
  readonly relay: OutboxRelay | undefined;
  readonly metrics: PrometheusMetrics;
  /** The supervised roles (streams, sink) of this process: running, or being restarted and why. */
  roleStatus(): RoleStatus[];
  /** Stops a supervised role of this process until `resumeRole` (operations, tests); /readyz names it meanwhile. */
  pauseRole(name: 'streams' | 'sink'): Promise<void>;
  resumeRole(name: 'streams' | 'sink'): Promise<void>;
  /**
   * A replay run by this process (it needs the sink and api roles): its swap pauses this
   * process's sink and holds the API's analytics reads meanwhile. `close` it after use.
   */
  openReplay(options?: Partial<ReplayOptions>): Promise<{ replay: Replay; close: () => Promise<void> }>;
  stop(): Promise<void>;
}

/**
 * Wires adapters to ports and starts the requested roles in this process. Roles that touch the
 * embedded ClickHouse (sink, and the analytics API) must share a process; with a ClickHouse
 * server they can run apart. `stop` shuts down in reverse order and lets in-flight work finish.
 */
export async function startPipeline(config: PipelineConfig): Promise<Pipeline> {
  const logger = createLogger('pipeline');
  const has = (role: Role) => config.roles.includes(role);
  const metrics = new PrometheusMetrics();
  const topics = topicNames(config.topicPrefix);
  // Analytics reads pass this gate; a replay's swap holds it while it exchanges tables.
  const gate = new SwapGate();
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch((error) => logger.warn('stop step failed', { error }));
  };

  try {
    const kafka = createKafka(config.kafka);
    const prefixed = new Map(TOPIC_KEYS.map((key) => [baseTopicName(key), topics[key]]));
    const registry = new AvroRegistry({ url: config.registryUrl, topicFor: (base) => prefixed.get(base) ?? `${config.topicPrefix}${base}`, metrics });
    if (has('relay') || has('streams')) await registry.registerAll();
    const canaryIntervalMs = config.canary?.intervalMs ?? DEFAULT_CANARY_EMITTER_OPTIONS.intervalMs;
    const admin = kafka.admin();
    await admin.connect();
    let canaryPartitions = config.topicLayout.partitions;
    try {
      await ensureTopics(admin, topicSpecs(topics, config.topicLayout));
      // Heartbeats are keyed for the partitions the topic has (it may predate this layout).
      // A topic just created may not be in the broker's metadata yet (UNKNOWN_TOPIC_OR_PARTITION).
      if (has('relay') && canaryIntervalMs > 0) {
        const metadata = await retry(() => admin.fetchTopicMetadata({ topics: [topics.canary] }), {
          attempts: 20,
          initialDelayMs: 100,
          maxDelayMs: 1_000,
          retryOn: (error) => kafkaErrorCode(error) === 3,
        });
        canaryPartitions = metadata[0]!.partitions.length;
      }
    } finally {
      await admin.disconnect();
    }

    let pool: Pool | undefined;
    if (has('api') || has('relay')) {
      const created = createMysqlPool(config.mysql);
      pool = created;
      stops.push(() => created.end());
      await migrateMysql(created);
    }

    let clickhouse: ClickHouseClient | undefined;
    if (has('sink') || has('api')) {
      const client = createClickHouse(config.clickhouse);
      clickhouse = client;
      stops.push(() => client.close());
      await migrateClickHouse(client, config.clickhouse.database);
      const purger = new DeletedOrderPurger(client, config.clickhouse.database, { metrics });
      purger.start();
      stops.push(() => purger.stop());
    }

    let relay: OutboxRelay | undefined;
    if (has('relay')) {
      const publisher = new KafkaOutboxPublisher(kafka, registry, { topics, lingerMs: 2, producerConfig: {} });
      const started = new OutboxRelay(mysqlOutboxStore(pool!), publisher, { ...config.relay, metrics });
      relay = started;
      stops.push(() => publisher.close());
      stops.push(() => started.stop());
      started.start();
      if (canaryIntervalMs > 0) {
        const emitter = new CanaryEmitter(mysqlHeartbeatLog(pool!), { intervalMs: canaryIntervalMs, partitions: canaryPartitions, signal: started, metrics });
        stops.push(() => emitter.stop());
        emitter.start();
      }
    }

    let canary: CanaryWatcher | undefined;
    if (has('api') && canaryIntervalMs > 0) {
      // With the embedded engine every heartbeat is inserted by this process's sink, which pokes
      // the watcher: polling is only a fallback then (a look costs ~4 ms of this process's CPU).
      const onlyLocalInserts = has('sink') && !config.clickhouse.url;
      const watcher = new CanaryWatcher(new ClickHouseCanaryArrivals(clickhouse!, config.clickhouse.database), mysqlHeartbeatLog(pool!), {
        ...(onlyLocalInserts ? { pollMs: 1_000 } : {}),
        ...config.canary,
        intervalMs: canaryIntervalMs,
        metrics,
      });
      canary = watcher;
      stops.push(() => watcher.stop());
      watcher.start();
    }

    const orders: OrderServiceDeps | undefined = has('api') ? { store: mysqlOrderStore(pool!), signal: relay } : undefined;
    if (has('api')) {
      const purger = new IdempotencyKeyPurger(mysqlOrderStore(pool!));
      purger.start();
      stops.push(() => purger.stop());
    }
    // The demo history is written before the streams and the sink start: they take it as one
    // backlog, in large batches (written while they run, it costs them several times the CPU).
    if (orders && config.seedDemo) {
      const [[row]] = (await pool!.query('SELECT COUNT(*) AS n FROM users')) as unknown as [[{ n: number }]];
      const seeded = await seedDemo(orders, { databaseWithoutUsers: Number(row?.n) === 0, history: config.demoHistory });
      if (seeded.catalog) logger.info('loaded the demo catalog and users');
      if (config.demoTraffic) {
        const traffic = new DemoTraffic(orders, seeded.customers);
        stops.push(() => traffic.stop());
        traffic.start();
      }
    }

    // Health of the pipeline from this process's instruments (GET /api/pipeline/health, the
    // dashboard); its freshness check is the canary's /readyz one.
    const health = new PipelineHealth(metrics, canary ? { thresholds: { canaryAgeSeconds: canary.staleAfterMs / 1000 } } : {});
    health.start();
    stops.push(async () => health.stop());
    let live: LiveFeed | undefined;

    // A role that stops on a fatal error is replaced in this process, with backoff; the others
    // (the API among them) keep serving, and /readyz names it until it runs again.
    const supervisors: Supervisor[] = [];
    const supervise = async (name: string, create: (onFatal: (error: unknown) => void) => SupervisedRole, paused = false) => {
      const supervisor = new Supervisor(create, { ...config.restart, name, metrics, logger: createLogger(`${name}.supervisor`) });
      supervisors.push(supervisor);
      stops.push(() => supervisor.stop());
      await supervisor.start({ paused });
    };

    const topology = buildShopstreamTopology(topics, registrySerdes(registry));
    const streamsId = `${config.groupPrefix}-streams`;
    if (has('streams')) {
      await supervise(
        'streams',
        (onFatal) =>
          new KafkaStreams(topology, config.kafka, {
            applicationId: streamsId,
            deadLetterTopic: topics.deadLetter,
            replicationFactor: config.topicLayout.replicationFactor,
            onFatal,
            metrics,
          }),
      );
    }

    if (has('sink')) {
      const writer = new ClickHouseAnalyticsWriter(clickhouse!, config.clickhouse.database);
      // The canary watcher and the dashboard's live feed of this process look as soon as their rows were inserted.
      const onInserted = (table: string) => (table === 'pipeline_canary' ? canary?.poke() : table === 'order_changes' ? live?.poke() : undefined);
      // A --reset-streams replay not swapped yet holds the sink (it must not load the re-derived records).
      const held = holdsSink(await replayManifest(clickhouse!, config.clickhouse.database));
      if (held) logger.warn('the sink stays paused: a replay with --reset-streams waits for its swap (`shopstream replay resume`)');
      await supervise('sink', (onFatal) => new ClickHouseSink(kafka, registry, writer, writer, topics, { groupId: `${config.groupPrefix}-sink`, onFatal, onInserted, metrics }), held);
    }

    if (has('monitor')) {
      const source = new KafkaLagSource(kafka, config.kafka);
      await source.connect();
      stops.push(() => source.close());
      const groups = [`${config.groupPrefix}-streams`, `${config.groupPrefix}-sink`, ...(config.monitor?.groups ?? [])];
      const collector = new LagCollector(source, { ...config.monitor, groups, metrics });
      collector.start();
      stops.push(() => collector.stop());
    }

    const openReplay = async (options?: Partial<ReplayOptions>) => {
      const sink = supervisors.find((s) => s.status().name === 'sink');
      const streams = supervisors.find((s) => s.status().name === 'streams');
      if (!sink || !has('api') || !pool || !clickhouse) throw new Error('a replay runs in the process with the sink and api roles');
      return createReplay(
        {
          kafka,
          kafkaOptions: config.kafka,
          registry,
          clickhouse,
          database: config.clickhouse.database,
          pool,
          topics,
          sinkGroup: `${config.groupPrefix}-sink`,
          live: {
            sink: { pause: () => sink.pause(), resume: () => sink.resume() },
            gate,
            streams: streams && {
              inputTopics: topology.sourceTopics(),
              outputTopics: [topics.ordersEnriched, topics.orderChanges, topics.pipelineCanary],
              pause: () => streams.pause(),
              resume: () => streams.resume(),
              reset: () => resetStreamsApplication(kafka, streamsId, changelogTopics(topology, streamsId)),
              committed: () => committedOffsets(kafka, streamsId),
            },
          },
        },
        options,
      );
    };

    let url: string | undefined;
    if (config.httpPort !== undefined) {
      const readiness: ReadinessCheck[] = [];
      if (has('relay') || has('streams') || has('sink') || has('monitor')) {
        // One long-lived admin client answers whether the brokers serve metadata right now.
        const probe = kafka.admin();
        await probe.connect();
        stops.push(() => probe.disconnect());
        readiness.push(kafkaReadiness(probe));
      }
      if (relay) {
        const started = relay;
        readiness.push(async () => ({ name: 'relay', ok: started.infrastructureError === undefined, detail: started.infrastructureError }));
      }
      if (pool) readiness.push(async () => ({ name: 'mysql', ok: (await pool!.query('SELECT 1').then(() => true, () => false)) }));
      if (clickhouse) readiness.push(async () => ({ name: 'clickhouse', ok: (await clickhouse!.ping()).success }));
      if (canary) readiness.push(canary.readiness());
      for (const supervisor of supervisors) readiness.push(supervisor.readiness());
      const adminStore = orders ? mysqlAdminStore(pool!) : undefined;
      // Replay and reconcile run here when this process owns the sink and the analytics reads.
      const ops =
        adminStore && has('sink') && clickhouse
          ? new InProcessOpsJobs({
              replay: (args, out) => runReplay((options) => openReplay(options), args, out),
              reconcile: (args, out) => runReconcile(pool!, clickhouse!, config.clickhouse.database, args, out),
            })
          : undefined;
      const analytics = clickhouse && has('api') ? gatedReads(new ClickHouseAnalytics(clickhouse, config.clickhouse.database), gate) : undefined;
      // With the embedded engine every order change is inserted by this process's sink, which
      // pokes the feed: its poll is only a fallback then (as the canary watcher's).
      const feed = new LiveFeed({ newestChange: analytics && (() => analytics.newestChange()), health }, createLogger('live'), has('sink') && !config.clickhouse.url ? { pollMs: 5_000 } : {});
      live = feed;
      const app = createApp(
        {
          orders,
          admin: adminStore && { tokens: adminStore, audit: adminStore },
          analytics: analytics && { store: analytics },
          readiness,
          metricsEndpoint: metrics,
          ops,
          pipelineHealth: health,
          live: feed,
        },
        {
          metrics,
          rateLimit: { ...config.writeRateLimit, ...(config.rateLimitStore === 'mysql' && pool ? { store: mysqlRateLimitStore(pool, databaseOf(config.mysql.url)) } : {}) },
          trustProxy: config.trustProxy ?? false,
          version: packageVersion(),
        },
      );
      const server: Server = createServer(app);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.httpPort, config.httpHost, () => resolve());
      });
      stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      // (Stops run in reverse: the event streams end first, or the server would wait for them.)
      stops.push(async () => feed.close());
      const { port } = server.address() as AddressInfo;
      url = `http://${config.httpHost === '0.0.0.0' ? 'localhost' : config.httpHost}:${port}`;
    }

    const supervisor = (name: string) => {
      const found = supervisors.find((s) => s.status().name === name);
      if (!found) throw new Error(`no ${name} role runs in this process`);
      return found;
    };
    return {
      roles: config.roles,
      topics,
      url,
      pool,
      clickhouse,
      relay,
      metrics,
      roleStatus: () => supervisors.map((s) => s.status()),
      pauseRole: (name) => supervisor(name).pause(),
      resumeRole: (name) => supervisor(name).resume(),
      openReplay,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
