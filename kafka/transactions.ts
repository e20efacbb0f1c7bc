import { ShopstreamError } from '../core/errors.js';
import type { Consumer, Producer } from './client.js';

/** How long after its own timeout a transactional call may still answer. */
const UNANSWERED_GRACE_MS = 30_000;

/** How a failed transactional call must be handled (see transactionErrorKind). */
export type TransactionErrorKind = 'retriable' | 'abortable' | 'fatal';

/** A failed transactional call, with librdkafka's own classification of it. */
export class TransactionError extends ShopstreamError {
  constructor(
    readonly operation: string,
    readonly kind: TransactionErrorKind,
    readonly kafkaCode: number | undefined,
    cause: unknown,
  ) {
    super('KAFKA_TRANSACTION_FAILED', `${operation}: ${(cause as Error)?.message ?? cause} (${kind})`, { cause, retriable: kind !== 'fatal' });
  }
}

interface NativeError {
  code?: number;
  message?: string;
  isFatal?: boolean;
  isRetriable?: boolean;
  isTxnRequiresAbort?: boolean;
}

/** The node binding's producer under the KafkaJS-compat one (callback API, errors with their flags). */
interface NativeProducer {
  beginTransaction(cb: (error: NativeError | null) => void): void;
  commitTransaction(timeoutMs: number, cb: (error: NativeError | null) => void): void;
  abortTransaction(timeoutMs: number, cb: (error: NativeError | null) => void): void;
  sendOffsetsToTransaction(offsets: { topic: string; partition: number; offset: number }[], consumer: unknown, timeoutMs: number, cb: (error: NativeError | null) => void): void;
}

/**
 * librdkafka's transactional API on the producer of a KafkaJS-compat client, keeping its error
 * classification: @confluentinc/kafka-javascript 1.10's compat layer reads `retriable`, `fatal`
 * and `abortable` where its binding sets `isRetriable`, `isFatal` and `isTxnRequiresAbort`, so
 * every error of its own `commit()` / `abort()` comes back unclassified (and a timed-out commit,
 * which librdkafka marks retriable because the commit goes on in the background, looks final).
 * The compat producer's `send` is used for the records: it does not depend on the compat
 * layer's idea of an ongoing transaction, only librdkafka's.
 *
 * One transaction at a time: begin, sends, sendOffsets, then commit or abort. A call that fails
 * `retriable` may be made again (commit and abort resume where they were); after `abortable`,
 * abort; after `fatal`, the producer is unusable.
 */
export class Transactions {
  private readonly native: NativeProducer;

  constructor(producer: Producer) {
    this.native = (producer as unknown as { _getInternalClient(): NativeProducer })._getInternalClient();
  }

  /** Local to librdkafka (no request), which waits for it without a timeout: answered within the grace. */
  begin(): Promise<void> {
    return this.call('begin transaction', (cb) => this.native.beginTransaction(cb), 0);
  }

  /** Adds the consumer's positions (the next offsets to read) to the transaction. */
  sendOffsets(consumer: Consumer, offsets: { topic: string; partition: number; offset: string }[], timeoutMs = 5_000): Promise<void> {
    const client = (consumer as unknown as { _getInternalClient(): unknown })._getInternalClient();
    const native = offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: Number(offset) }));
    return this.call('send offsets to transaction', (cb) => this.native.sendOffsetsToTransaction(native, client, timeoutMs, cb), timeoutMs);
  }

  commit(timeoutMs = 5_000): Promise<void> {
    return this.call('commit transaction', (cb) => this.native.commitTransaction(timeoutMs, cb), timeoutMs);
  }

  abort(timeoutMs = 5_000): Promise<void> {
    return this.call('abort transaction', (cb) => this.native.abortTransaction(timeoutMs, cb), timeoutMs);
  }

  /**
   * A call that librdkafka has not answered well after its `timeoutMs` (0: a call without one)
   * fails `fatal`: its outcome is unknown and the producer may be stuck, so only a new instance
   * can go on (a guard: an instance never waits on one call forever). A late answer is ignored.
   */
  private call(operation: string, run: (cb: (error: NativeError | null) => void) => void, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const waitedMs = timeoutMs + UNANSWERED_GRACE_MS;
      const why = timeoutMs > 0 ? `no answer ${waitedMs} ms after a call with a ${timeoutMs} ms timeout` : `no answer within ${waitedMs} ms`;
      const timer = setTimeout(() => reject(new TransactionError(operation, 'fatal', undefined, new Error(why))), waitedMs);
      timer.unref();
      try {
        run((error) => {
          clearTimeout(timer);
          if (error) reject(new TransactionError(operation, classify(error), error.code, error));
          else resolve();
        });
      } catch (error) {
        clearTimeout(timer);
        reject(new TransactionError(operation, 'fatal', undefined, error));
      }
    });
  }
}

/**
 * How a failed transactional call must be handled, from librdkafka's own classification of the
 * error (rd_kafka_error_is_retriable / txn_requires_abort / is_fatal):
 * - `retriable`: the same call may be made again (a timed-out commit goes on in the background,
 *   so its outcome is unknown until a retry reports it);
 * - `abortable`: the transaction must be aborted, after which nothing of it is visible;
 * - `fatal`: the producer is unusable (fenced, or in an unknown state): only a new instance,
 *   whose initialization completes or aborts what was left, can go on.
 * Anything that is not a TransactionError counts as fatal: its outcome is not known.
 */
export function transactionErrorKind(error: unknown): TransactionErrorKind {
  return error instanceof TransactionError ? error.kind : 'fatal';
}

/** librdkafka: fatal, else requires abort, else retriable; an error with none of these is fatal. */
function classify(error: NativeError): TransactionErrorKind {
  if (error.isFatal) return 'fatal';
  if (error.isTxnRequiresAbort) return 'abortable';
  if (error.isRetriable) return 'retriable';
  return 'fatal';
}
