import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { PrometheusMetrics } from '../../metrics/prometheus.js';
import { AvroRegistry, DecodeError, SchemaIncompatibleError } from '../../registry/avro-registry.js';
import type { SchemaFile } from '../../registry/catalog.js';
import { entry, uniqueId } from '../support/env.js';

/** The process metrics and the registry error counter, as /metrics of a real app serves them. */
describe('/metrics of a real app', () => {
  const metrics = new PrometheusMetrics();
  let server: Server;
  let url: string;
  const scrape = async () => (await fetch(`${url}/metrics`)).text();
  const sample = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  beforeAll(async () => {
    server = createServer(createApp({ metricsEndpoint: metrics }, { metrics }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  it('serves prom-client\'s default metrics under the shopstream_ prefix', async () => {
    const text = await scrape();
    for (const name of ['shopstream_process_cpu_seconds_total', 'shopstream_process_resident_memory_bytes', 'shopstream_nodejs_eventloop_lag_seconds', 'shopstream_nodejs_heap_size_used_bytes', 'shopstream_nodejs_version_info']) {
      expect(text, name).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? \\d`, 'm'));
    }
    expect(text).not.toMatch(/^shopstream_process_process_/m);
  });

  it('measures the event loop delay since the previous scrape', async () => {
    await scrape(); // starts a new window
    await new Promise((resolve) => setTimeout(resolve, 30)); // (a reset drops the interval in progress)
    const until = Date.now() + 250;
    while (Date.now() < until); // the loop is blocked for 250 ms
    await new Promise((resolve) => setTimeout(resolve, 30));
    const text = await scrape();
    expect(sample(text, 'shopstream_event_loop_delay_seconds{quantile="1"}')).toBeGreaterThanOrEqual(0.2);
    expect(sample(text, 'shopstream_event_loop_delay_seconds{quantile="0.5"}')).toBeLessThan(0.2);
    for (const q of ['0.9', '0.99']) expect(sample(text, `shopstream_event_loop_delay_seconds{quantile="${q}"}`)).toBeGreaterThanOrEqual(0);
    // A quiet window reads small, not the blocked one again.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sample(await scrape(), 'shopstream_event_loop_delay_seconds{quantile="1"}')).toBeLessThan(0.2);
  });

  it('counts failed schema registry calls by operation', async () => {
    const id = uniqueId();
    const file = (fields: unknown[]): SchemaFile => ({
      baseTopic: `t${id}.registry-errors`,
      name: 'Thing',
      fullName: `t${id}.Thing`,
      schema: { type: 'record', name: 'Thing', namespace: `t${id}`, fields },
      path: 'inline',
    });
    const count = async (operation: string) => sample(await scrape(), `shopstream_registry_errors_total{operation="${operation}"}`) ?? 0;

    // The real registry refuses an incompatible change (a new required field).
    await new AvroRegistry({ url: entry.registryUrl, metrics }, [file([{ name: 'a', type: 'string' }])]).registerAll();
    const changed = new AvroRegistry({ url: entry.registryUrl, metrics }, [file([{ name: 'a', type: 'string' }, { name: 'b', type: 'string' }])]);
    await expect(changed.registerAll()).rejects.toBeInstanceOf(SchemaIncompatibleError);
    expect(await count('register')).toBe(1);

    // A schema id it does not know.
    const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 0]);
    await expect(changed.decode(unknownId)).rejects.toBeInstanceOf(DecodeError);
    expect(await count('fetch-schema')).toBe(1);

    // Not reachable at all.
    const nowhere = new AvroRegistry({ url: 'http://127.0.0.1:9/apis/ccompat/v7', metrics }, [file([{ name: 'a', type: 'string' }])]);
    await expect(nowhere.check()).rejects.toThrow(/cannot reach/);
    expect(await count('check')).toBe(1);
    await expect(nowhere.registerAll()).rejects.toThrow();
    expect(await count('register')).toBe(2);
    // A record that is not Confluent-framed is the record's fault, not the registry's.
    await expect(changed.decode(Buffer.from('plain text'))).rejects.toBeInstanceOf(DecodeError);
    expect(await count('fetch-schema')).toBe(1);
  }, 60_000);
});
