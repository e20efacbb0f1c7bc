import { describe, expect, it } from 'vitest';
import { waitFor } from '../../core/retry.js';
import { createKafka } from '../../kafka/client.js';
import { uniqueId } from '../support/env.js';
import { useIsolatedPipeline } from '../support/pipeline.js';

/**
 * `start --roles monitor` alone: the lag of the pipeline's own groups and of the groups listed in
 * MONITOR_GROUPS (here one standing for Kafka Connect's), collected periodically and served at
 * /metrics; a group that does not exist is not reported.
 */
describe('the monitor role', () => {
  const other = `t${uniqueId()}-connect-sink`;
  const isolated = useIsolatedPipeline(['monitor'], { monitor: { groups: [other], intervalMs: 200 } });

  it('serves the lag of its own and of the listed groups at /metrics', async () => {
    const { pipeline, config } = isolated;
    const kafka = createKafka(config.kafka);
    const producer = kafka.producer({ 'enable.idempotence': true, acks: -1 });
    await producer.connect();
    await producer.send({ topic: pipeline.topics.orderChanges, messages: Array.from({ length: 5 }, (_, i) => ({ value: `r${i}`, partition: 0 })) });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const sink = `${config.groupPrefix}-sink`;
    try {
      // Offsets committed as the sink and Connect would: 2 of 5, and everything.
      for (const [group, offset] of [[sink, '2'], [other, '5']] as const) {
        const consumer = kafka.consumer({ 'group.id': group, 'enable.auto.commit': false } as never);
        await consumer.connect();
        await consumer.commitOffsets([{ topic: pipeline.topics.orderChanges, partition: 0, offset }]);
        await waitFor(async () => ((await admin.fetchOffsets({ groupId: group }))[0]?.partitions[0]?.offset === offset ? true : undefined), { timeoutMs: 10_000, intervalMs: 50, describe: `${group} committed` });
        await consumer.disconnect();
      }
      const series = (group: string) => `shopstream_consumergroup_lag{group="${group}",topic="${pipeline.topics.orderChanges}",partition="0"}`;
      const text = await waitFor(
        async () => {
          const body = await (await fetch(`${pipeline.url}/metrics`)).text();
          return body.includes(`${series(sink)} 3`) && body.includes(`${series(other)} 0`) ? body : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200, describe: 'lag of both groups at /metrics' },
      );
      // Nobody consumes the sink group's lagging partition: STOP. Connect's is caught up: OK.
      expect(text).toContain(`shopstream_consumergroup_status{group="${sink}",status="STOP"} 1`);
      expect(text).toContain(`shopstream_consumergroup_status{group="${other}",status="OK"} 1`);
      expect(text).toMatch(new RegExp(`shopstream_consumergroup_max_lag_seconds\\{group="${sink}"\\} [0-9.]+`));
      expect(text).not.toContain(`group="${config.groupPrefix}-streams"`); // no such group
      expect(text).toMatch(/^shopstream_lag_collector_scrape_duration_seconds_count \d+/m);
      expect((await fetch(`${pipeline.url}/readyz`)).status).toBe(200);
    } finally {
      await admin.deleteGroups([sink, other]).catch(() => undefined);
      await admin.disconnect();
    }
  }, 60_000);
});
