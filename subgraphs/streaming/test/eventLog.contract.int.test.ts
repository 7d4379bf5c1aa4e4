import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@lt/logger';
import { Cleanup, freePort, testEnv, uniqueName, waitFor } from '@lt/testing';
import {
  createKafkaEventLog,
  createMemoryEventLog,
  type ConsumeOptions,
  type EventLog,
  type LogConsumer,
  type LogMessage,
} from '../src/eventLog';

// One contract for both event logs (every port's implementations pass one suite): the real broker on 127.0.0.1:9092 and the
// in-process stand-in `npm start` uses without KAFKA_BROKERS. Unique topics and groups per test.
const log = createLogger({ level: 'silent' });
const cleanup = new Cleanup();
afterAll(() => cleanup.run());

const implementations: { name: string; create: () => EventLog }[] = [
  {
    name: 'kafka',
    // A short heartbeat so members notice a rebalance quickly.
    create: () =>
      createKafkaEventLog({
        brokers: testEnv().kafkaBrokers,
        clientId: uniqueName('contract'),
        log,
        heartbeatIntervalMs: 300,
      }),
  },
  { name: 'memory', create: () => createMemoryEventLog({ log, retryMinMs: 20 }) },
];

/** A few event-loop turns (no timer): long enough for anything already runnable to run. */
const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe.each(implementations)('event log contract: $name', ({ create }) => {
  async function fresh(partitions = 3) {
    const eventLog = create();
    cleanup.add(() => eventLog.stop());
    const topic = uniqueName('contract');
    await eventLog.ensureTopics([topic], partitions);
    return { eventLog, topic, producer: eventLog.producer() };
  }

  /** A group member that records what it handled; `fail` decides per message whether to throw. */
  async function member(
    eventLog: EventLog,
    o: Omit<ConsumeOptions, 'eachMessage' | 'eachBatch'>,
    fail: (m: LogMessage, attempt: number) => boolean = () => false,
  ) {
    const handled: LogMessage[] = [];
    const attempts = new Map<string, number>();
    const consumer: LogConsumer = await eventLog.consume({
      ...o,
      eachMessage: async (m) => {
        const n = (attempts.get(m.value) ?? 0) + 1;
        attempts.set(m.value, n);
        if (fail(m, n)) throw new Error(`handler refused ${m.value}`);
        handled.push(m);
      },
    });
    cleanup.add(() => consumer.stop());
    return { consumer, handled, attempts, values: () => handled.map((m) => m.value) };
  }

  it('delivers each key in send order, with its headers, from one partition per key', async () => {
    const { eventLog, topic, producer } = await fresh();
    const keys = [uniqueName('k'), uniqueName('k'), uniqueName('k')];
    const c = await member(eventLog, { groupId: uniqueName('g'), topics: [topic] });
    for (let i = 0; i < 10; i++) {
      // One message per key per call, and a batch of all keys in one call.
      for (const key of keys) await producer.send(topic, [{ key, value: `${key}:${i}`, headers: { n: String(i) } }]);
      await producer.sendBatch([{ topic, messages: keys.map((key) => ({ key, value: `${key}:${10 + i}` })) }]);
    }
    await waitFor(() => c.handled.length === 60, { what: '60 messages' });
    for (const key of keys) {
      const mine = c.handled.filter((m) => m.key === key);
      // Send order: for each i, `key:i` (its own call) then `key:10+i` (in the batch).
      expect(mine.map((m) => m.value)).toEqual(
        Array.from({ length: 10 }, (_, i) => [`${key}:${i}`, `${key}:${10 + i}`]).flat(),
      );
      expect(new Set(mine.map((m) => m.partition)).size).toBe(1);
      expect(mine.map((m) => Number(m.offset))).toEqual([...mine.map((m) => Number(m.offset))].sort((x, y) => x - y));
    }
    const first = c.handled.find((m) => m.key === keys[0] && m.value.endsWith(':3'))!;
    expect(first).toMatchObject({ topic, headers: { n: '3' } });
  });

  it('redelivers a message whose handler failed, after the ones already handled (at-least-once)', async () => {
    const { eventLog, topic, producer } = await fresh();
    const key = uniqueName('k');
    const c = await member(
      eventLog,
      { groupId: uniqueName('g'), topics: [topic] },
      (m, n) => m.value === '5' && n === 1,
    );
    await producer.send(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ key, value: String(i) })),
    );
    await waitFor(() => c.handled.length >= 10, { what: 'all 10 handled' });
    expect(c.attempts.get('5')).toBe(2);
    // Handled once each and in order: 0–4 were committed before the failure, 5 came again.
    expect(c.values()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('commits only handled messages: the next member of the group starts at the first unhandled one', async () => {
    const { eventLog, topic, producer } = await fresh(1);
    const key = uniqueName('k');
    const groupId = uniqueName('g');
    const a = await member(eventLog, { groupId, topics: [topic] }, (m) => m.value === '3'); // 3 always fails
    await producer.send(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ key, value: String(i) })),
    );
    await waitFor(() => (a.attempts.get('3') ?? 0) >= 2, { what: 'message 3 retried' });
    expect(a.values()).toEqual(['0', '1', '2']);
    await a.consumer.stop();
    // Lag counts what the group has not committed: 3..9.
    expect((await eventLog.status(groupId, [topic])).lag).toEqual([{ topic, lag: 7 }]);

    const b = await member(eventLog, { groupId, topics: [topic] });
    await waitFor(() => b.handled.length >= 7, { what: 'the rest handled by the next member' });
    expect(b.values()).toEqual(['3', '4', '5', '6', '7', '8', '9']);
    await waitFor(async () => (await eventLog.status(groupId, [topic])).lag[0]?.lag === 0, { what: 'lag 0' });
    expect(await eventLog.status(groupId, [topic])).toEqual({ reachable: true, lag: [{ topic, lag: 0 }] });
  });

  it("shares a topic's partitions among a group's members; another group sees every message", async () => {
    const { eventLog, topic, producer } = await fresh(3);
    const groupId = uniqueName('g');
    const a = await member(eventLog, { groupId, topics: [topic] });
    const b = await member(eventLog, { groupId, topics: [topic] });
    const partsOf = (c: LogConsumer) => c.assignment()[topic] ?? [];
    await waitFor(
      () => {
        const [pa, pb] = [partsOf(a.consumer), partsOf(b.consumer)];
        return pa.length > 0 && pb.length > 0 && new Set([...pa, ...pb]).size === 3 && pa.length + pb.length === 3;
      },
      { what: 'both members assigned', timeoutMs: 30_000 },
    );
    const other = await member(eventLog, { groupId: uniqueName('g2'), topics: [topic] });
    await producer.send(
      topic,
      Array.from({ length: 30 }, (_, i) => ({ key: uniqueName(`k${i}`), value: String(i) })),
    );
    await waitFor(() => a.handled.length + b.handled.length >= 30 && other.handled.length >= 30, {
      what: '30 messages in each group',
    });
    const shared = [...a.values(), ...b.values()];
    expect(shared).toHaveLength(30);
    expect(new Set(shared).size).toBe(30);
    expect(a.handled.length).toBeGreaterThan(0);
    expect(b.handled.length).toBeGreaterThan(0);
    expect(a.handled.every((m) => partsOf(a.consumer).includes(m.partition))).toBe(true);
    expect(b.handled.every((m) => partsOf(b.consumer).includes(m.partition))).toBe(true);
    expect(new Set(other.values())).toEqual(new Set(shared));
  });

  it('reports lag per topic for a group that has not consumed yet', async () => {
    const { eventLog, topic, producer } = await fresh();
    const second = uniqueName('contract');
    await eventLog.ensureTopics([second]);
    await producer.send(topic, [
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
      { key: 'c', value: '3' },
    ]);
    expect(await eventLog.status(uniqueName('g'), [topic, second])).toEqual({
      reachable: true,
      lag: [
        { topic, lag: 3 },
        { topic: second, lag: 0 },
      ],
    });
  });

  it('send never waits for consumers; stop waits for the in-flight handler, then nothing more runs; a stopped log refuses work', async () => {
    const { eventLog, topic, producer } = await fresh(1);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    const seen: string[] = [];
    const order: string[] = [];
    const consumer = await eventLog.consume({
      groupId: uniqueName('g'),
      topics: [topic],
      eachMessage: async (m) => {
        seen.push(m.value);
        entered();
        await gate;
        order.push(`handled ${m.value}`);
      },
    });
    await producer.send(topic, [{ key: 'k', value: 'first' }]);
    await inHandler;
    // `send` returns while a handler is busy: it never waits for consumers.
    await producer.send(topic, [{ key: 'k', value: 'while busy' }]);
    // A control: an idle consumer of the same log, stopped alongside. Once its stop has completed,
    // a stop that did not wait for the busy handler would have completed too (on Kafka a stop takes
    // a while either way, so "not stopped yet" alone would prove nothing).
    const idle = await eventLog.consume({ groupId: uniqueName('g'), topics: [topic], eachMessage: async () => {} });
    const stopping = consumer.stop().then(() => order.push('stopped'));
    await idle.stop();
    await turns();
    expect(order).toEqual([]); // still waiting for the handler
    release();
    await stopping;
    expect(order).toEqual(['handled first', 'stopped']);

    await producer.send(topic, [{ key: 'k', value: 'second' }]);
    const witness = await member(eventLog, { groupId: uniqueName('g'), topics: [topic] });
    await waitFor(() => witness.handled.length === 3, { what: 'a new group sees all three' });
    expect(witness.values()).toEqual(['first', 'while busy', 'second']);
    expect(seen).toEqual(['first']);

    await eventLog.stop();
    expect(await eventLog.status(uniqueName('g'), [topic])).toEqual({ reachable: false, lag: [] });
    await expect(producer.send(topic, [{ key: 'k', value: 'late' }])).rejects.toThrow(/stopped/);
    await expect(
      eventLog.consume({ groupId: uniqueName('g'), topics: [topic], eachMessage: async () => {} }),
    ).rejects.toThrow(/stopped/);
  });
});

describe('kafka event log without a broker', () => {
  it('reports unreachable within its status timeout, and send fails instead of hanging', async () => {
    const port = await freePort();
    const down = createKafkaEventLog({
      brokers: [`127.0.0.1:${port}`],
      clientId: uniqueName('down'),
      log,
      retry: { retries: 0, initialRetryTime: 50 },
      connectionTimeoutMs: 300,
      statusTimeoutMs: 1_000,
    });
    cleanup.add(() => down.stop());
    expect(await down.status(uniqueName('g'), ['x'])).toEqual({ reachable: false, lag: [] });
    await expect(down.producer().send('x', [{ key: 'k', value: 'v' }])).rejects.toThrow();
  });
});
