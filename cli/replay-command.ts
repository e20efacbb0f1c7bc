import type { ClickHouseClient } from '@clickhouse/client';
import type { Pool } from 'mysql2/promise';
import { createClickHouse } from '../clickhouse/client.js';
import { createKafka } from '../kafka/client.js';
import { KafkaOutboxPublisher } from '../kafka/outbox-publisher.js';
import { baseTopicName, TOPIC_KEYS, topicNames } from '../kafka/topics.js';
import { mysqlRetainedOutbox } from '../mysql/outbox-retained.js';
import { createMysqlPool } from '../mysql/pool.js';
import { AvroRegistry } from '../registry/avro-registry.js';
import { expectedRecords, type ReplayManifest } from '../replay/manifest.js';
import { republishOutbox } from '../replay/outbox-replay.js';
import type { Replay, ReplayOptions } from '../replay/replay.js';
import type { EntryConfig } from './config.js';
import { runInPipeline } from './ops-client.js';
import { consoleOutput, type CommandOutput } from './output.js';
import { parseReplayArgs } from './replay-flags.js';
import { createReplay } from './replay-wiring.js';

export type OpenReplay = (options: Partial<ReplayOptions>) => Promise<{ replay: Replay; close: () => Promise<void> }>;

/**
 * `shopstream replay …` (see replay-flags.ts). With a pipeline running, the replay runs inside it
 * (it owns the embedded engine, pauses its sink and holds the API's reads for the swap); with
 * none, here. `replay --outbox` always runs here (it only reads MySQL and writes Kafka).
 */
export async function replayCommand(config: EntryConfig, args: string[]): Promise<number> {
  const parsed = parseReplayArgs(args);
  if (parsed.action === 'outbox') return republishCommand(config, parsed);
  const routed = await runInPipeline(config, 'replay', args);
  if (routed !== undefined) return routed;
  const pool = createMysqlPool({ ...config.mysql, connectionLimit: 2 });
  const clickhouse: ClickHouseClient = createClickHouse(config.clickhouse);
  const out = consoleOutput();
  try {
    return await runReplay((options) => createReplay(directWiring(config, pool, clickhouse), options), args, out);
  } finally {
    out.done();
    await clickhouse.close();
    await pool.end();
  }
}

function directWiring(config: EntryConfig, pool: Pool, clickhouse: ClickHouseClient) {
  const topics = topicNames(config.topicPrefix);
  const kafka = createKafka(config.kafka);
  return {
    kafka,
    kafkaOptions: config.kafka,
    registry: registryFor(config),
    clickhouse,
    database: config.clickhouse.database,
    pool,
    topics,
    sinkGroup: `${config.groupPrefix}-sink`,
  };
}

function registryFor(config: EntryConfig): AvroRegistry {
  const topics = topicNames(config.topicPrefix);
  const prefixed = new Map(TOPIC_KEYS.map((key) => [baseTopicName(key), topics[key]]));
  return new AvroRegistry({ url: config.registryUrl, topicFor: (base) => prefixed.get(base) ?? `${config.topicPrefix}${base}` });
}

/** The replay subcommands on an opened Replay, writing to `out` (this process or an ops job). */
export async function runReplay(open: OpenReplay, args: string[], out: CommandOutput): Promise<number> {
  const parsed = parseReplayArgs(args);
  const { replay, close } = await open({ onProgress: ({ phase, loaded, total }) => out.progress(phase, Number(loaded), Number(total)) });
  try {
    const current = await replay.current();
    const need = (states: ReplayManifest['state'][]): ReplayManifest | undefined => {
      if (current && states.includes(current.state)) return current;
      out.line(current ? `The replay is ${current.state}; this needs it ${states.join(' or ')}.` : 'No replay exists (start one with `shopstream replay`).');
      return undefined;
    };
    const swap = async (manifest: ReplayManifest, force: boolean) => {
      const { drift } = await replay.swap(manifest, { force });
      if (drift.length > 0) out.line(`Swapped despite ${drift.length} drifting keys (--force).`);
      out.line(`Swapped: the live tables are the rebuilt ones; the replaced ones stay in ${manifest.shadow} (\`replay rollback\`, \`replay cleanup\`).`);
      return 0;
    };
    switch (parsed.action) {
      case 'status':
        if (!current) out.line('No replay exists.');
        else describe(current, out);
        return 0;
      case 'start': {
        if (current) {
          out.line(`A replay exists (${current.state}): \`replay resume\`, \`replay swap\`, \`replay rollback\` or \`replay cleanup\` it first.`);
          return 1;
        }
        if (parsed.resetStreams) {
          out.line('Resetting the stream processor: the sink is held until the swap; the streams re-derive their outputs from the earliest input.');
          const loaded = await replay.startWithReset();
          describe(loaded, out);
          if (!parsed.swap) {
            out.line('Not swapped (--no-swap): `shopstream replay swap` swaps it in; the sink stays held until then.');
            return 0;
          }
          return await swap(loaded, parsed.force);
        }
        const plan = await replay.plan({ tables: parsed.tables, fromMs: parsed.fromMs, toMs: parsed.toMs, offsets: parsed.offsets });
        describe(plan, out);
        if (parsed.dryRun) {
          out.line('Dry run: nothing was changed.');
          return 0;
        }
        const loaded = await replay.start(plan);
        out.line(`Loaded ${expectedRecords(loaded)} offsets into ${loaded.shadow}.`);
        if (!parsed.swap) {
          out.line('Not swapped (--no-swap): `shopstream replay swap` swaps it in.');
          return 0;
        }
        return await swap(loaded, parsed.force);
      }
      case 'resume': {
        const manifest = need(['resetting', 'loading', 'loaded']);
        if (!manifest) return 1;
        const loaded = await replay.load(manifest);
        out.line(`Loaded ${expectedRecords(loaded)} offsets into ${loaded.shadow}.`);
        return parsed.swap ? await swap(loaded, parsed.force) : 0;
      }
      case 'swap': {
        const manifest = need(['loaded']);
        return manifest ? await swap(manifest, parsed.force) : 1;
      }
      case 'rollback': {
        const manifest = need(['swapped']);
        if (!manifest) return 1;
        await replay.rollback(manifest);
        out.line('Rolled back: the replaced tables are live again, caught up; `replay cleanup` drops the rebuilt ones.');
        return 0;
      }
      case 'cleanup':
        if (current?.state === 'loading' || current?.state === 'loaded') out.line(`Dropping the unswapped replay ${current.id}.`);
        await replay.cleanup();
        out.line('Cleaned up: the shadow database is dropped.');
        return 0;
      default:
        return 2;
    }
  } finally {
    await close();
  }
}

function describe(manifest: ReplayManifest, out: CommandOutput): void {
  out.line(`Replay ${manifest.id} (${manifest.state}), planned ${manifest.plannedAt}, into ${manifest.shadow}`);
  out.line(`  tables: ${manifest.tables.join(', ')}${manifest.resetStreams ? ' (from the stream processor\'s re-derived outputs: --reset-streams)' : ''}`);
  for (const r of manifest.ranges) out.line(`  ${r.topic}[${r.partition}] offsets ${r.from}..${r.to} (${r.to - r.from} offsets)`);
  out.line(`  expected records: at most ${expectedRecords(manifest)} (transaction markers and aborted records are skipped)`);
  if (manifest.swappedAt) out.line(`  swapped at ${manifest.swappedAt}`);
  if (manifest.rolledBackAt) out.line(`  rolled back at ${manifest.rolledBackAt}`);
}

async function republishCommand(config: EntryConfig, args: Extract<ReturnType<typeof parseReplayArgs>, { action: 'outbox' }>): Promise<number> {
  const pool = createMysqlPool({ ...config.mysql, connectionLimit: 2 });
  const publisher = new KafkaOutboxPublisher(createKafka(config.kafka), registryFor(config), { topics: topicNames(config.topicPrefix), lingerMs: 5, producerConfig: {} });
  const out = consoleOutput();
  try {
    const selection = args.fromId !== undefined ? { fromId: args.fromId, toId: args.toId! } : { fromMicros: args.fromMs! * 1000, toMicros: args.toMs! * 1000 };
    const outbox = mysqlRetainedOutbox(pool);
    const { rows, firstId, lastId } = await outbox.count(selection);
    out.line(`${rows} published outbox rows are retained in the range${rows > 0 ? ` (ids ${firstId}..${lastId})` : ''}.`);
    if (args.dryRun || rows === 0) {
      if (args.dryRun) out.line('Dry run: nothing was published.');
      return 0;
    }
    const { published } = await republishOutbox(outbox, publisher, selection, { onProgress: (done, total) => out.progress('republish', done, total) });
    out.line(`Published ${published} events again, with their original event_id and commit time.`);
    return 0;
  } finally {
    out.done();
    await publisher.close();
    await pool.end();
  }
}
