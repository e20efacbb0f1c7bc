import type { AvroRegistry, Decoded } from '../registry/avro-registry.js';
import type { Serde } from './api.js';

export const stringSerde: Serde<string> = {
  serialize: (_topic, value) => Buffer.from(value, 'utf8'),
  deserialize: (_topic, data) => (data ? data.toString('utf8') : ''),
};

/** Any record of a topic's registered schemas, decoded with the writer's schema from the registry. */
export function avroSourceSerde(registry: AvroRegistry): Serde<Decoded> {
  return {
    serialize: async (_topic, value) => (await registry.encode(value.name, value.value)).value,
    deserialize: (_topic, data) => registry.decode(data),
  };
}

/** Records of one schema (by record name), encoded with its registered id. */
export function avroSinkSerde<T>(registry: AvroRegistry, recordName: string): Serde<T> {
  return {
    serialize: async (_topic, value) => (await registry.encode(recordName, value)).value,
    deserialize: async (_topic, data) => (await registry.decode(data)).value as T,
  };
}
