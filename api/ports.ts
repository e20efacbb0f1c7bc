/**
 * The pipeline's health as this process's instruments see it (the values its /metrics exports),
 * with the verdict of the checks that mirror the alert rules. Sections of roles this process
 * does not run are null or empty.
 */
export interface PipelineHealthView {
  status: 'ok' | 'degraded';
  /** When it was read (UTC ISO). */
  at: string;
  checks: { name: string; ok: boolean; detail: string }[];
  /** The canary (api role): age of the newest heartbeat seen in ClickHouse, heartbeats lost in the window, round trip p99 over it. */
  freshness: { canaryAgeSeconds: number; lostInWindow: number; roundTripP99Seconds: number | null } | null;
  /** The outbox (relay role). */
  outbox: { backlog: number; oldestAgeSeconds: number; parked: number } | null;
  /** Consumer groups (monitor role); `stage` is streams or sink for the pipeline's own groups, else the group. */
  consumers: { group: string; stage: string; status: string; lagMessages: number; lagSeconds: number }[];
  /** Outbox commit → stage latency over the last `windowSeconds` (clickhouse: queryable). */
  latency: { windowSeconds: number; stages: { stage: string; count: number; p50Seconds: number | null; p99Seconds: number | null }[] };
  /** Supervised roles (streams, sink). */
  roles: { role: string; up: boolean }[];
}

export interface PipelineHealthReader {
  read(): Promise<PipelineHealthView>;
}

/** What /readyz checks: each dependency of this process's roles. */
export type ReadinessCheck = () => Promise<{ name: string; ok: boolean; detail?: string }>;

/** The /metrics endpoint's source. */
export interface MetricsEndpoint {
  readonly contentType: string;
  render(): Promise<string>;
}

/** A long operation's state as the ops routes report it; `lines` from index `since` on. */
export interface OpsJobView {
  id: string;
  command: string;
  state: 'running' | 'done';
  exitCode: number | null;
  lines: string[];
  /** Index of the next line (pass it as `since`). */
  next: number;
  progress: { phase: string; done: number; total: number } | null;
}

/**
 * Long operations (replay, reconcile) run by the process that owns the analytics engine, so the
 * CLI reaches the embedded engine through its API. A job runs once; its output is kept until the
 * process ends.
 */
export interface OpsJobs {
  readonly commands: readonly string[];
  start(command: string, args: string[]): string;
  view(id: string, since: number): OpsJobView | undefined;
}
