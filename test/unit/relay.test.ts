import { describe, expect, it } from 'vitest';
import { assertSafeProducerConfig } from '../../kafka/outbox-publisher.js';
import { ConfigError } from '../../core/errors.js';
import type { ClaimDecision, EventPublisher, OutboxRow, OutboxStore, PublishOutcome } from '../../relay/ports.js';
import { OutboxRelay } from '../../relay/relay.js';

const row = (id: string, attempts = 0): OutboxRow => ({
  id,
  eventId: `e${id}`,
  aggregateType: 'order',
  aggregateId: `a${id}`,
  aggregateVersion: 1,
  eventType: 'OrderCreated',
  payload: {},
  createdAt: 0,
  attempts,
});

/** A store that hands out `rows` once and records the decision. */
function oneBatchStore(rows: OutboxRow[]): OutboxStore & { decisions: ClaimDecision[] } {
  const decisions: ClaimDecision[] = [];
  let given = false;
  return {
    decisions,
    async claim(_limit, decide) {
      if (given) return 0;
      given = true;
      decisions.push(await decide(rows));
      return rows.length;
    },
    stats: async () => ({ backlog: 0, oldestUnpublishedAt: null, parked: 0 }),
    purgePublished: async () => 0,
    listParked: async () => [],
    requeue: async () => false,
  };
}

const publisher = (outcome: PublishOutcome): EventPublisher => ({ publish: async () => outcome, close: async () => undefined });

describe('relay failure decisions', () => {
  it('retries a failed row with doubling backoff and parks it at maxAttempts', async () => {
    const store = oneBatchStore([row('1', 0), row('2', 3), row('3', 4), row('4')]);
    const relay = new OutboxRelay(
      store,
      publisher({ published: ['4'], failed: ['1', '2', '3'].map((id) => ({ id, error: 'bad payload' })) }),
      { maxAttempts: 5, attemptBackoffMs: 100, maxAttemptBackoffMs: 500 },
    );
    await relay.drain();
    expect(store.decisions).toEqual([
      {
        published: ['4'],
        failed: [
          { id: '1', error: 'bad payload', park: false, retryInMs: 100 },
          { id: '2', error: 'bad payload', park: false, retryInMs: 500 }, // 100·2³ capped at 500
          { id: '3', error: 'bad payload', park: true, retryInMs: 500 },
        ],
      },
    ]);
  });
});

describe('relay producer settings', () => {
  it('refuses settings that could reorder or lose events', () => {
    expect(() => assertSafeProducerConfig({ 'enable.idempotence': false })).toThrow(ConfigError);
    expect(() => assertSafeProducerConfig({ acks: 1 })).toThrow(/acks must be all/);
    expect(() => assertSafeProducerConfig({ 'max.in.flight.requests.per.connection': 10 })).toThrow(/at most 5/);
    expect(() => assertSafeProducerConfig({ acks: 'all', 'enable.idempotence': true, 'max.in.flight.requests.per.connection': 5, 'linger.ms': 5 })).not.toThrow();
  });
});
