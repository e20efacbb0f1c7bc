import type { PipelineHealth } from './api.js';
import { byId, fillTable, setText } from './dom.js';
import { formatCount, formatSeconds, label } from './format.js';

const figure = (name: string) => document.querySelector<HTMLElement>(`[data-figure="${name}"] .figure-value`)!;

/** Shows the health view as GET /api/pipeline/health (or the `health` event) gives it. */
export function renderHealth(health: PipelineHealth): void {
  const ok = health.status === 'ok';
  const failing = health.checks.filter((c) => !c.ok);
  const verdict = ok ? 'OK' : `Degraded: ${failing.map((c) => c.name).join(', ')}`;
  for (const badge of [byId('pipeline-status'), byId('pipeline-badge')]) {
    setText(badge, badge.id === 'pipeline-badge' ? `Pipeline: ${ok ? 'OK' : 'degraded'}` : verdict);
    badge.className = `badge ${ok ? 'badge-ok' : 'badge-bad'}`;
  }

  setText(figure('freshness'), health.freshness ? formatSeconds(health.freshness.canaryAgeSeconds) : 'n/a (no canary here)');
  const queryable = health.latency.stages.find((s) => s.stage === 'clickhouse');
  setText(figure('latency'), queryable && queryable.count > 0 ? `${formatSeconds(queryable.p50Seconds)} / ${formatSeconds(queryable.p99Seconds)}` : 'n/a');
  setText(
    figure('backlog'),
    health.outbox ? `${formatCount(health.outbox.backlog)}${health.outbox.backlog > 0 ? ` · oldest ${formatSeconds(health.outbox.oldestAgeSeconds)}` : ''}` : 'n/a (no relay here)',
  );
  setText(figure('parked'), health.outbox ? formatCount(health.outbox.parked) : 'n/a');

  fillTable(
    byId<HTMLTableElement>('lag-table'),
    health.consumers.map((c) => [label(c.stage), { text: c.status, className: c.status === 'OK' ? 'ok' : c.status === 'WARN' ? 'warn' : 'bad' }, formatCount(c.lagMessages), formatSeconds(c.lagSeconds)]),
    [2, 3],
    'No lag measured in this process (monitor role)',
  );
  fillTable(
    byId<HTMLTableElement>('latency-table'),
    health.latency.stages.map((s) => [label(s.stage), formatCount(s.count), formatSeconds(s.p50Seconds), formatSeconds(s.p99Seconds)]),
    [1, 2, 3],
    'No changes measured yet',
  );
  const caption = byId<HTMLTableElement>('latency-table').caption;
  if (caption) setText(caption, `Outbox commit → stage latency, last ${health.latency.windowSeconds} s`);

  const list = byId('checks');
  list.replaceChildren(
    ...health.checks.map((c) => {
      const item = document.createElement('li');
      item.className = c.ok ? 'ok' : 'bad';
      item.textContent = `${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`;
      return item;
    }),
  );
}
