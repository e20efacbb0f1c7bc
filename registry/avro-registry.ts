import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { DependencyError, ShopstreamError } from '../core/errors.js';
import { noopMetrics, type Counter, type Metrics } from '../metrics/metrics.js';
import { DecimalType } from './decimal-type.js';
import { loadSchemaFiles, type SchemaFile } from './catalog.js';

export type Compatibility = 'BACKWARD_TRANSITIVE' | 'FORWARD_TRANSITIVE' | 'FULL_TRANSITIVE';

export interface RegistryOptions {
  /** Confluent-compatible registry base URL. Default http://127.0.0.1:8081/apis/ccompat/v7. */
  url: string;
  /** Compatibility enforced on every subject. Default BACKWARD_TRANSITIVE (SPEC §4). */
  compatibility: Compatibility;
  /** Actual topic of a schemas-avro/ folder (lets tests prefix topics). Default: the folder name. */
  topicFor: (baseTopic: string) => string;
  /**
   * `shopstream_registry_errors_total{operation}` counts the calls to the registry that failed
   * (unreachable, or an error answer such as a refused registration): operation `register`,
   * `fetch-schema` (a schema by id, to encode or decode) or `check`. Default: noopMetrics.
   */
  metrics: Metrics;
}

export const DEFAULT_REGISTRY_OPTIONS: RegistryOptions = {
  url: 'http://127.0.0.1:8081/apis/ccompat/v7',
  compatibility: 'BACKWARD_TRANSITIVE',
  topicFor: (baseTopic) => baseTopic,
  metrics: noopMetrics,
};

export interface RegisteredSchema {
  name: string;
  topic: string;
  /** topic-record-name strategy: `<topic>-<namespace>.<name>`. */
  subject: string;
  id: number;
}

/** An event payload the schema cannot encode (a poison row): never retriable. */
export class EncodeError extends ShopstreamError {
  constructor(name: string, cause: unknown) {
    super('EVENT_ENCODE_FAILED', `${name} payload does not match its Avro schema: ${(cause as Error).message ?? cause}`, { cause });
  }
}

/** A record whose bytes are not Confluent-framed Avro of a schema the registry knows. */
export class DecodeError extends ShopstreamError {
  constructor(message: string, cause?: unknown) {
    super('EVENT_DECODE_FAILED', message, { cause });
  }
}

export class SchemaIncompatibleError extends ShopstreamError {
  constructor(subject: string, cause: unknown) {
    super('SCHEMA_INCOMPATIBLE', `schema for ${subject} is rejected by the registry: ${(cause as Error).message ?? cause}`, { cause });
  }
}

export interface SchemaCheck {
  subject: string;
  path: string;
  /** new: no version registered yet; compatible / incompatible with the registered versions per the subject's rule. */
  status: 'new' | 'compatible' | 'incompatible';
  messages: string[];
}

export interface Decoded {
  name: string;
  fullName: string;
  schemaId: number;
  value: Record<string, unknown>;
}

/**
 * The schemas-avro/ contracts bound to a Schema Registry. `registerAll` must run before
 * producing; `encode` uses the registered ids (Confluent wire format: magic byte 0, 4-byte
 * schema id, Avro binary). Ids and schemas are cached after their first lookup.
 */
export class AvroRegistry {
  readonly options: RegistryOptions;
  private readonly client: SchemaRegistry;
  private readonly files: Map<string, SchemaFile>;
  private readonly registered = new Map<string, RegisteredSchema>();
  private readonly errors: Counter;

  constructor(options: Partial<RegistryOptions> = {}, files: SchemaFile[] = loadSchemaFiles()) {
    this.options = { ...DEFAULT_REGISTRY_OPTIONS, ...options };
    this.client = new SchemaRegistry(
      { host: this.options.url, retry: { retries: 3 } },
      { [SchemaType.AVRO]: { logicalTypes: { decimal: DecimalType as unknown as typeof avro.types.LogicalType } } },
    );
    this.files = new Map(files.map((file) => [file.name, file]));
    this.errors = this.options.metrics.counter({ name: 'shopstream_registry_errors_total', help: 'Schema registry calls that failed', labelNames: ['operation'] });
  }

  subjectOf(file: SchemaFile): string {
    return `${this.options.topicFor(file.baseTopic)}-${file.fullName}`;
  }

  /** Registers every schema (idempotent: an identical schema keeps its id). */
  async registerAll(): Promise<RegisteredSchema[]> {
    const result: RegisteredSchema[] = [];
    for (const file of this.files.values()) result.push(await this.register(file));
    return result;
  }

  async register(file: SchemaFile): Promise<RegisteredSchema> {
    const subject = this.subjectOf(file);
    try {
      const { id } = await this.client.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(file.schema) },
        { subject, compatibility: this.options.compatibility as never },
      );
      const registered = { name: file.name, topic: this.options.topicFor(file.baseTopic), subject, id };
      this.registered.set(file.name, registered);
      return registered;
    } catch (error) {
      this.errors.inc({ operation: 'register' });
      const status = (error as { status?: number }).status;
      if (status === 409 || status === 422) throw new SchemaIncompatibleError(subject, error);
      throw new DependencyError('registry', `could not register ${subject}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The registration of a record name; registers it on first use. */
  async schemaFor(name: string): Promise<RegisteredSchema> {
    const known = this.registered.get(name);
    if (known) return known;
    const file = this.files.get(name);
    if (!file) throw new EncodeError(name, new Error(`no schema named ${name} in schemas-avro/`));
    return this.register(file);
  }

  /**
   * Asks the registry whether each local schema may be registered under its subject's
   * compatibility rule, without registering anything (`schemas:check`, before deploy).
   */
  async check(): Promise<SchemaCheck[]> {
    try {
      return await this.checkAll();
    } catch (error) {
      this.errors.inc({ operation: 'check' });
      throw error;
    }
  }

  private async checkAll(): Promise<SchemaCheck[]> {
    const results: SchemaCheck[] = [];
    for (const file of this.files.values()) {
      const subject = this.subjectOf(file);
      // Some registries answer "compatible" for a subject they do not know: ask first.
      const versions = await fetch(`${this.options.url}/subjects/${encodeURIComponent(subject)}/versions`).catch((error) => {
        throw new DependencyError('registry', `cannot reach ${this.options.url}: ${(error as Error).message}`, { cause: error });
      });
      if (versions.status === 404) {
        results.push({ subject, path: file.path, status: 'new', messages: [] });
        continue;
      }
      const response = await fetch(`${this.options.url}/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema: JSON.stringify(file.schema) }),
      });
      const body = (await response.json().catch(() => ({}))) as { is_compatible?: boolean; messages?: string[]; message?: string; error_code?: number };
      if (response.ok && typeof body.is_compatible === 'boolean') {
        results.push({ subject, path: file.path, status: body.is_compatible ? 'compatible' : 'incompatible', messages: body.messages ?? [] });
      } else if (response.status === 409 || response.status === 422) {
        results.push({ subject, path: file.path, status: 'incompatible', messages: [body.message ?? `registry answered ${response.status}`] });
      } else {
        throw new DependencyError('registry', `compatibility check of ${subject} failed: ${response.status} ${body.message ?? ''}`);
      }
    }
    return results;
  }

  async encode(name: string, payload: unknown): Promise<{ value: Buffer; schema: RegisteredSchema }> {
    const schema = await this.schemaFor(name);
    try {
      return { value: await this.client.encode(schema.id, payload), schema };
    } catch (error) {
      if ((error as { status?: number }).status !== undefined) {
        this.errors.inc({ operation: 'fetch-schema' });
        throw new DependencyError('registry', `could not fetch schema ${schema.id}`, { cause: error });
      }
      throw new EncodeError(name, error);
    }
  }

  async decode(buffer: Buffer | null): Promise<Decoded> {
    if (!buffer || buffer.length < 5 || buffer[0] !== 0) throw new DecodeError('record is not in the Confluent Avro wire format');
    const schemaId = buffer.readInt32BE(1);
    let type: avro.Type;
    try {
      type = (await this.client.getSchema(schemaId)) as unknown as avro.Type;
    } catch (error) {
      this.errors.inc({ operation: 'fetch-schema' });
      const status = (error as { status?: number }).status;
      if (status === 404) throw new DecodeError(`schema id ${schemaId} is unknown to the registry`, error);
      throw new DependencyError('registry', `could not fetch schema ${schemaId}`, { cause: error });
    }
    try {
      const value = type.fromBuffer(buffer.subarray(5)) as Record<string, unknown>;
      const fullName = type.name ?? '';
      return { name: fullName.split('.').pop() ?? fullName, fullName, schemaId, value };
    } catch (error) {
      throw new DecodeError(`record does not decode with schema ${schemaId}`, error);
    }
  }
}
