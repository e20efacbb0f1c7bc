import type { LoadedTable } from '../sink/clickhouse-sink.js';
import type { PartitionRange } from './ports.js';

/**
 * The tables each loaded table feeds through materialized views (clickhouse/migrations). A
 * replay of a loaded table rebuilds and swaps the whole group, so no view is left reading one
 * generation and writing another.
 */
export const TABLE_GROUPS: Record<LoadedTable, readonly string[]> = {
  orders: ['orders', 'order_items'],
  order_changes: ['order_changes', 'hourly_sales', 'product_sales', 'dimension_sales'],
  products: ['products'],
  pipeline_canary: ['pipeline_canary'],
};

/** The sink's ledger: swapped with the tables so each generation keeps the ranges it holds. */
export const LEDGER_TABLE = 'sink_ranges';

export type ReplayState = 'resetting' | 'loading' | 'loaded' | 'swapped' | 'rolled-back';

/**
 * A replay, frozen before any work starts and kept beside its shadow: the loaded tables it
 * rebuilds, and per partition of their topics the offsets [from, to) it reads (`to`: the last
 * stable offset when it was planned, so the range is bounded and never moves).
 */
export interface ReplayManifest {
  id: string;
  shadow: string;
  plannedAt: string;
  tables: LoadedTable[];
  /** topic → table, for the replayed tables. */
  topics: Record<string, LoadedTable>;
  ranges: PartitionRange[];
  state: ReplayState;
  swappedAt?: string;
  rolledBackAt?: string;
  /**
   * With --reset-streams: the stream processor re-derives its outputs from the earliest input;
   * the shadow loads its outputs from where they stood at the reset. The live sink is held from
   * the start until the swap (it must not load the re-derived records into the live tables).
   */
  resetStreams?: boolean;
}

/** Whether the live sink must stay paused: a --reset-streams replay not swapped yet. */
export function holdsSink(manifest: ReplayManifest | undefined): boolean {
  return manifest?.resetStreams === true && ['resetting', 'loading', 'loaded'].includes(manifest.state);
}

/** Every table the replay exchanges: its groups and the ledger. */
export function exchangedTables(manifest: Pick<ReplayManifest, 'tables'>): string[] {
  return [...manifest.tables.flatMap((table) => TABLE_GROUPS[table]), LEDGER_TABLE];
}

export function expectedRecords(manifest: Pick<ReplayManifest, 'ranges'>): bigint {
  return manifest.ranges.reduce((sum, r) => sum + (r.to > r.from ? r.to - r.from : 0n), 0n);
}

export function serializeManifest(manifest: ReplayManifest): string {
  return JSON.stringify({ ...manifest, ranges: manifest.ranges.map((r) => ({ ...r, from: String(r.from), to: String(r.to) })) });
}

export function parseManifest(text: string): ReplayManifest {
  const raw = JSON.parse(text) as ReplayManifest & { ranges: { topic: string; partition: number; from: string; to: string }[] };
  return { ...raw, ranges: raw.ranges.map((r) => ({ ...r, from: BigInt(r.from), to: BigInt(r.to) })) };
}
