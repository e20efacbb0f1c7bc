import type { PipelineCanaryRecord, PipelineHeartbeatPayload } from '../../canary/model.js';
import type { Decoded } from '../../registry/avro-registry.js';
import type { Processor, ProcessorContext, StreamRecord } from '../api.js';

export const CANARY_SINK = 'pipeline-canary-sink';

/**
 * Forwards each canary heartbeat (shop.canary.v1) to CANARY_SINK as the streams saw it: its emit
 * time (the outbox commit time, the committed_at header), the partition it was read from and
 * when it was processed. Stateless, so every heartbeat is forwarded, a replayed one again (the
 * canary's watcher counts each heartbeat once). It shares the task, the transaction and the
 * offsets commit of the orders on its partition, so it is held up by whatever holds them up.
 */
export class CanaryProcessor implements Processor<string, Decoded, string, PipelineCanaryRecord> {
  private context!: ProcessorContext<string, PipelineCanaryRecord>;

  constructor(private readonly nowMicros: () => number = () => Date.now() * 1000) {}

  init(context: ProcessorContext<string, PipelineCanaryRecord>): void {
    this.context = context;
  }

  process(record: StreamRecord<string, Decoded>): void {
    if (record.value.name !== 'PipelineHeartbeat') return;
    const heartbeat = record.value.value as unknown as PipelineHeartbeatPayload;
    const emittedAt = Number(record.headers.committed_at ?? record.timestamp * 1000);
    const value: PipelineCanaryRecord = {
      heartbeat_id: heartbeat.heartbeatId,
      emitted_at: emittedAt,
      partition: this.context.recordMetadata()?.partition ?? 0,
      processed_at: this.nowMicros(),
    };
    this.context.forward({ key: heartbeat.heartbeatId, value, timestamp: record.timestamp, headers: { event_id: record.headers.event_id ?? '', committed_at: String(emittedAt) } }, CANARY_SINK);
  }
}
