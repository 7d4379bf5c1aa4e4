import type { Logger } from '@lt/logger';
import type {
  BatchContext,
  ConsumeOptions,
  EventLog,
  LogBatch,
  LogConsumer,
  LogMessage,
  LogProducer,
  LogStatus,
  OutgoingMessage,
  TopicMessages,
} from './types';

export interface MemoryEventLogOptions {
  log?: Logger;
  /** Partitions of a topic created by `send` or `consume` rather than `ensureTopics`. Default 3. */
  defaultPartitions?: number;
  /**
   * Messages kept per partition; older ones are dropped, and a group behind them continues at the
   * oldest kept one (Kafka's `earliest` reset). Default 10_000.
   */
  retainPerPartition?: number;
  /** Messages handed to one `eachBatch` call at most. Default 500. */
  maxBatchSize?: number;
  /** After a handler error, redelivery waits this long, doubling up to `retryMaxMs`. Default 100 / 2_000 ms. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

interface Stored {
  key: string;
  value: string;
  headers: Record<string, string>;
}

interface Partition {
  /** Offset of messages[0]; grows as retention drops old messages. */
  low: number;
  messages: Stored[];
  /** Workers parked until the next append. */
  waiters: Set<() => void>;
}

interface Member {
  id: number;
  options: ConsumeOptions;
  stopped: boolean;
  /** One worker per assigned partition, by `topic/partition`. */
  workers: Map<string, Worker>;
  slots: { free: number; queue: (() => void)[] };
}

interface Worker {
  topic: string;
  partition: number;
  revoked: boolean;
  /** Interrupts an idle wait or a backoff. */
  wake?: () => void;
  done: Promise<void>;
}

interface Group {
  committed: Map<string, number>;
  members: Member[];
  /** The latest worker of each partition: a new owner starts only after the previous one finished. */
  lastWorker: Map<string, Promise<void>>;
}

const tpKey = (topic: string, partition: number) => `${topic}/${partition}`;

/** FNV-1a: a stable key → partition mapping (any stable hash keeps per-key order). */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * An in-process event log with Kafka's semantics where the pipeline relies on them: partitions by
 * key hash, per-group committed offsets that move only over resolved messages, redelivery after a
 * handler error, partitions shared among a group's members, bounded retention. `send` only appends
 * and returns: consumers run on their own (the relay holds its claim transaction open during `send`,
 * and the embedded Postgres serialises transactions, so waiting for consumers would deadlock).
 */
export function createMemoryEventLog(o: MemoryEventLogOptions = {}): EventLog {
  const defaultPartitions = o.defaultPartitions ?? 3;
  const retain = o.retainPerPartition ?? 10_000;
  const maxBatch = o.maxBatchSize ?? 500;
  const retryMin = o.retryMinMs ?? 100;
  const retryMax = o.retryMaxMs ?? 2_000;
  const topics = new Map<string, Partition[]>();
  const groups = new Map<string, Group>();
  let nextMemberId = 1;
  let stopped = false;

  function topicOf(name: string, numPartitions = defaultPartitions): Partition[] {
    let parts = topics.get(name);
    if (!parts) {
      parts = Array.from({ length: numPartitions }, () => ({ low: 0, messages: [], waiters: new Set() }));
      topics.set(name, parts);
      for (const g of groups.values()) if (g.members.some((m) => m.options.topics.includes(name))) rebalance(g);
    }
    return parts;
  }

  function append(topic: string, messages: OutgoingMessage[]): void {
    const parts = topicOf(topic);
    const touched = new Set<Partition>();
    for (const m of messages) {
      const p = parts[hash(m.key) % parts.length]!;
      p.messages.push({ key: m.key, value: m.value, headers: { ...m.headers } });
      touched.add(p);
    }
    for (const p of touched) {
      const excess = p.messages.length - retain;
      if (excess > 0) {
        p.messages.splice(0, excess);
        p.low += excess;
      }
      const waiters = [...p.waiters];
      p.waiters.clear();
      for (const w of waiters) w();
    }
  }

  function producer(): LogProducer {
    const sendBatch = (batch: TopicMessages[]): Promise<void> => {
      if (stopped) return Promise.reject(new Error('event log stopped'));
      for (const b of batch) append(b.topic, b.messages);
      return Promise.resolve();
    };
    return { send: (topic, messages) => sendBatch([{ topic, messages }]), sendBatch, stop: () => Promise.resolve() };
  }

  /** Partitions of the group's topics dealt round-robin to the members subscribed to each topic. */
  function rebalance(g: Group): void {
    const wanted = new Map<Member, Set<string>>(g.members.map((m) => [m, new Set()]));
    const names = [...new Set(g.members.flatMap((m) => m.options.topics))].sort();
    for (const name of names) {
      const subscribed = g.members.filter((m) => m.options.topics.includes(name));
      const parts = topics.get(name) ?? [];
      parts.forEach((_, i) => wanted.get(subscribed[i % subscribed.length]!)!.add(tpKey(name, i)));
    }
    for (const [m, keys] of wanted) {
      for (const [key, w] of m.workers)
        if (!keys.has(key)) {
          w.revoked = true;
          w.wake?.();
          m.workers.delete(key);
        }
      for (const key of keys) if (!m.workers.has(key)) startWorker(g, m, key);
    }
  }

  function startWorker(g: Group, m: Member, key: string): void {
    const cut = key.lastIndexOf('/');
    const w: Worker = {
      topic: key.slice(0, cut),
      partition: Number(key.slice(cut + 1)),
      revoked: false,
      done: Promise.resolve(),
    };
    const previous = g.lastWorker.get(key) ?? Promise.resolve();
    w.done = previous.then(() => work(g, m, w, key));
    g.lastWorker.set(key, w.done);
    m.workers.set(key, w);
  }

  const active = (m: Member, w: Worker) => !w.revoked && !m.stopped;

  /** Waits for an append, a wake-up or `ms`, whichever comes first. */
  function pause(w: Worker, part: Partition | undefined, ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        part?.waiters.delete(done);
        w.wake = undefined;
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      part?.waiters.add(done);
      w.wake = done;
    });
  }

  async function withSlot<T>(m: Member, run: () => Promise<T>): Promise<T> {
    if (m.slots.free > 0) m.slots.free--;
    else await new Promise<void>((r) => m.slots.queue.push(r));
    try {
      return await run();
    } finally {
      const next = m.slots.queue.shift();
      if (next) next();
      else m.slots.free++;
    }
  }

  async function handle(m: Member, batch: LogBatch, ctx: BatchContext): Promise<void> {
    if (m.options.eachBatch) return m.options.eachBatch(batch, ctx);
    for (const msg of batch.messages) {
      if (!ctx.isRunning()) return;
      await m.options.eachMessage!(msg);
      ctx.resolveOffset(msg.offset);
    }
  }

  async function work(g: Group, m: Member, w: Worker, key: string): Promise<void> {
    let position: number | undefined;
    let backoff = retryMin;
    const startAt = (part: Partition) => part.low + (m.options.fromBeginning === false ? part.messages.length : 0);
    while (active(m, w)) {
      const part = topics.get(w.topic)?.[w.partition];
      if (!part) return;
      const committed = g.committed.get(key);
      position = Math.max(position ?? committed ?? startAt(part), part.low);
      if (committed === undefined && m.options.fromBeginning === false) g.committed.set(key, position);
      const from = position - part.low;
      if (from >= part.messages.length) {
        await pause(w, part);
        continue;
      }
      const messages: LogMessage[] = part.messages.slice(from, from + maxBatch).map((s, i) => ({
        topic: w.topic,
        partition: w.partition,
        offset: String(position! + i),
        ...s,
        headers: { ...s.headers },
      }));
      const first = position;
      let resolved: number | undefined;
      const ctx: BatchContext = {
        resolveOffset(offset) {
          const n = Number(offset);
          if (n >= first && n < first + messages.length) resolved = Math.max(resolved ?? n, n);
        },
        heartbeat: () => Promise.resolve(),
        isRunning: () => active(m, w),
      };
      try {
        await withSlot(m, () => handle(m, { topic: w.topic, partition: w.partition, messages }, ctx));
        position = first + messages.length;
        backoff = retryMin;
      } catch (err) {
        o.log?.warn('event log handler failed; redelivering after the last resolved message', {
          topic: w.topic,
          partition: w.partition,
          err: String(err),
          retryInMs: backoff,
        });
        position = undefined; // back to the committed offset
        if (active(m, w)) await pause(w, undefined, backoff);
        backoff = Math.min(backoff * 2, retryMax);
      } finally {
        // Only what the handler resolved is committed (also when it threw, as kafkajs does).
        if (resolved !== undefined) g.committed.set(key, Math.max(g.committed.get(key) ?? 0, resolved + 1));
      }
    }
  }

  async function consume(c: ConsumeOptions): Promise<LogConsumer> {
    if (stopped) throw new Error('event log stopped');
    if (!c.eachBatch === !c.eachMessage) throw new Error('consume: give exactly one of eachBatch, eachMessage');
    const m: Member = {
      id: nextMemberId++,
      options: c,
      stopped: false,
      workers: new Map(),
      slots: { free: Math.max(1, c.partitionsConcurrently ?? 1), queue: [] },
    };
    let g = groups.get(c.groupId);
    if (!g) {
      g = { committed: new Map(), members: [], lastWorker: new Map() };
      groups.set(c.groupId, g);
    }
    const group = g;
    for (const t of c.topics) topicOf(t);
    group.members.push(m);
    rebalance(group);
    return {
      assignment() {
        const out: Record<string, number[]> = {};
        for (const w of m.workers.values()) (out[w.topic] ??= []).push(w.partition);
        for (const list of Object.values(out)) list.sort((a, b) => a - b);
        return out;
      },
      async stop() {
        if (m.stopped) return;
        m.stopped = true;
        const running = [...m.workers.values()];
        for (const w of running) w.wake?.();
        m.workers.clear();
        group.members = group.members.filter((x) => x !== m);
        rebalance(group); // the others' new workers start once these finished
        await Promise.all(running.map((w) => w.done));
      },
    };
  }

  const consumers = new Set<LogConsumer>();

  return {
    kind: 'memory',
    async ensureTopics(names, numPartitions) {
      for (const t of names) topicOf(t, numPartitions ?? defaultPartitions);
    },
    producer,
    async consume(c) {
      const member = await consume(c);
      const consumer: LogConsumer = {
        assignment: member.assignment,
        stop: () => (consumers.delete(consumer), member.stop()),
      };
      consumers.add(consumer);
      return consumer;
    },
    async status(groupId: string, names: string[]): Promise<LogStatus> {
      if (stopped) return { reachable: false, lag: [] };
      const committed = groups.get(groupId)?.committed;
      const lag = names.map((topic) => {
        let n = 0;
        (topics.get(topic) ?? []).forEach((p, i) => {
          const high = p.low + p.messages.length;
          n += high - Math.max(committed?.get(tpKey(topic, i)) ?? p.low, p.low);
        });
        return { topic, lag: n };
      });
      return { reachable: true, lag };
    },
    async stop() {
      stopped = true;
      await Promise.all([...consumers].map((c) => c.stop()));
    },
  };
}
