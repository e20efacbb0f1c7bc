import { describe, expect, it } from 'vitest';
import { waitFor } from '../../core/retry.js';
import { createKafka } from '../../kafka/client.js';
import { useIsolatedPipeline } from '../support/pipeline.js';

/**
 * One process running every role: a fatal error of the streams role (here a record of the orders
 * topic that does not decode, under the default `fail` policy) stops that role only. The API keeps
 * serving, /readyz names the stopped role and why, and the supervisor keeps restarting it with
 * backoff (each new instance meets the same record, so it stays down: that is what `fail` means).
 */
describe('a role that stops on a fatal error', () => {
  const isolated = useIsolatedPipeline(['api', 'relay', 'streams', 'sink'], { restart: { initialDelayMs: 200, maxDelayMs: 1_000 } });

  it('is restarted in process while the API keeps serving, and /readyz says so', async () => {
    const { pipeline } = isolated;
    expect(pipeline.roleStatus().map((s) => [s.name, s.state])).toEqual([
      ['streams', 'running'],
      ['sink', 'running'],
    ]);
    const ready = await fetch(`${pipeline.url}/readyz`);
    expect(ready.status).toBe(200);

    const producer = createKafka(isolated.config.kafka).producer({ 'enable.idempotence': true, acks: -1 });
    await producer.connect();
    await producer.send({ topic: pipeline.topics.orders, messages: [{ key: 'poison', value: Buffer.from('not an Avro record') }] });
    await producer.disconnect();

    const streams = () => pipeline.roleStatus().find((s) => s.name === 'streams')!;
    await waitFor(async () => (streams().restarts >= 2 ? true : undefined), { timeoutMs: 60_000, intervalMs: 100, describe: 'streams restarted twice' });
    expect(streams().lastError).toMatch(/deserialize failed/);
    expect(pipeline.roleStatus().find((s) => s.name === 'sink')!.state).toBe('running');

    const readiness = await waitFor(
      async () => {
        const response = await fetch(`${pipeline.url}/readyz`);
        return response.status === 503 ? ((await response.json()) as { checks: { name: string; ok: boolean; detail?: string }[] }) : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, describe: '/readyz not ready' },
    );
    const check = readiness.checks.find((c) => c.name === 'streams');
    expect(check?.ok).toBe(false);
    expect(check?.detail).toMatch(/deserialize failed/);

    // The API still takes writes (they wait in the outbox).
    const user = await fetch(`${pipeline.url}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'still@example.com', name: 'Still Here' }) });
    expect(user.status).toBe(201);
    expect((await fetch(`${pipeline.url}/healthz`)).status).toBe(200);
  }, 120_000);
});
