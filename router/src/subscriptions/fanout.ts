import { randomUUID } from 'node:crypto';
import type { ExecutionResult, FormattedExecutionResult, GraphQLSchema } from 'graphql';
import type { Caller } from '@lt/context';
import type { Logger } from '@lt/logger';
import { parseLiveEvent, tenantChannel, type LiveEvent, type PubSub } from '@lt/pubsub';
import type { RouterInternals } from '../createRouter';
import { resolveFromEvent, servableFromEvent } from './direct';
import { eventVariables, type LiveOperation } from './operation';

/** One client subscription: where its results go and who it runs as. */
export interface Subscriber {
  caller: Caller & { membership: NonNullable<Caller['membership']> & { tenantId: string } };
  op: LiveOperation;
  /**
   * Sends results, each already serialised (`{"data":…}`), as graphql-ws `next` messages, in
   * order. False when the consumer is too slow (its socket holds more unsent bytes than allowed):
   * nothing was sent and the fan-out calls `onOverflow`.
   */
  send(results: readonly string[]): boolean;
  /** Called when `send` refuses (the engine closes the socket as a slow consumer). */
  onOverflow(): void;
}

export interface FanoutOptions {
  pubsub: PubSub;
  execute: RouterInternals['execute'];
  /** The supergraph's API schema (serving location-only selections straight from the event). */
  schema: GraphQLSchema;
  log: Logger;
  /** Gateway executions in flight across all groups. Default 32. */
  maxConcurrentExecutions: number;
  /** Events waiting to be resolved per group before new ones are dropped. Default 5_000. */
  maxGroupBacklog: number;
}

/** Points re-read per gateway execution at most (the subgraph accepts up to 500). */
const RESOLVE_CHUNK = 200;

/** Scope in which results are identical: tenant + role, and the user for MEMBERs (own sessions only). */
function scopeKey(m: Subscriber['caller']['membership']): string {
  return m.role === 'TENANT_ADMIN' ? `${m.tenantId}|admin` : `${m.tenantId}|user:${m.userId}`;
}

/** Counting semaphore: bounds the gateway work the live path can cause. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

type LocationEvent = Extract<LiveEvent, { kind: 'location' }>;

/** Work waiting in a group, in event order. */
type Job =
  | { kind: 'points'; pointIds: string[] }
  | { kind: 'session'; args: Record<string, unknown> }
  /** Served from the event's payload, without a gateway execution. */
  | { kind: 'event'; event: LocationEvent };

/** How live results were produced (stats, tests, bench). */
export interface ServedCounts {
  /** Events served from their payload (no gateway execution). */
  fromEvent: number;
  /** Gateway re-reads. */
  reRead: number;
}

/**
 * Identical subscriptions in one scope: one upstream execution serves every member, results are
 * delivered in event order. Adaptive batching: one execution in flight per group; points that
 * arrive meanwhile are re-read together by the next one (up to RESOLVE_CHUNK), so the cost per
 * point falls as the rate rises instead of queuing one gateway call per point.
 */
class Group {
  readonly subscribers = new Set<Subscriber>();
  /** The selection only touches fields a location event carries: decided once, from the schema. */
  readonly servableFromEvent: boolean;
  private readonly jobs: Job[] = [];
  private backlog = 0;
  private running = false;

  constructor(
    readonly key: string,
    readonly op: LiveOperation,
    readonly ownUserId: string | null,
    private readonly o: FanoutOptions,
    private readonly limiter: Limiter,
    private readonly served: ServedCounts,
  ) {
    this.servableFromEvent = servableFromEvent(o.schema, op);
  }

  matches(e: LiveEvent): boolean {
    if (this.ownUserId !== null && e.userId !== this.ownUserId) return false;
    if (this.op.sessionId !== null && e.sessionId !== this.op.sessionId) return false;
    if (this.op.field === 'geofenceEvents') return e.kind === 'geofence';
    return this.op.field === 'locationUpdated' ? e.kind === 'location' : e.kind === 'session';
  }

  push(job: Job): void {
    const size = job.kind === 'points' ? job.pointIds.length : job.kind === 'event' ? job.event.points.length : 1;
    if (this.backlog + size > this.o.maxGroupBacklog) {
      this.o.log.warn('live group backlog full, event dropped', { backlog: this.backlog });
      return;
    }
    this.backlog += size;
    this.jobs.push(job);
    if (!this.running) void this.run();
  }

  /** Takes the next execution's worth of work: consecutive point jobs merge up to RESOLVE_CHUNK ids. */
  private take(): { args: Record<string, unknown>; size: number; event?: LocationEvent } | null {
    const head = this.jobs[0];
    if (!head) return null;
    if (head.kind === 'session') {
      this.jobs.shift();
      return { args: head.args, size: 1 };
    }
    if (head.kind === 'event') {
      this.jobs.shift();
      return { args: {}, size: head.event.points.length, event: head.event };
    }
    const ids: string[] = [];
    while (this.jobs[0]?.kind === 'points' && ids.length < RESOLVE_CHUNK) {
      const j = this.jobs[0];
      const room = RESOLVE_CHUNK - ids.length;
      ids.push(...j.pointIds.slice(0, room));
      if (j.pointIds.length <= room) this.jobs.shift();
      else j.pointIds = j.pointIds.slice(room);
    }
    return { args: { pointIds: ids }, size: ids.length };
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (let work = this.take(); work; work = this.take()) {
        try {
          const args = work.args;
          if (work.event) {
            // Visibility: the tenant's channel, and matches() (MEMBER: own sessions; sessionId).
            this.served.fromEvent++;
            this.deliver(resolveFromEvent(this.o.schema, this.op, work.event));
            continue;
          }
          this.deliver(await this.limiter.run(() => this.resolve(args)));
        } catch (err) {
          this.o.log.error('live event resolution failed', { err });
        } finally {
          this.backlog -= work.size;
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async resolve(eventArgs: Record<string, unknown>): Promise<FormattedExecutionResult | null> {
    const first = this.subscribers.values().next().value as Subscriber | undefined;
    if (!first) return null;
    // Runs as one of the group's subscribers (all share the scope): visibility is re-checked upstream.
    this.served.reRead++;
    const caller = { ...first.caller, requestId: randomUUID() };
    return this.o.execute(caller, this.op.refetch, eventVariables(this.op, eventArgs));
  }

  private deliver(r: FormattedExecutionResult | ExecutionResult | null): void {
    if (!r) return;
    // Not (or no longer) visible to this scope, or gone: nothing to deliver.
    if (!r.data || Object.values(r.data).every((v) => v === null)) {
      if (r.errors?.some((e) => e.extensions?.['code'] !== 'NOT_FOUND'))
        this.o.log.warn('live event resolved with errors', { codes: r.errors.map((e) => e.extensions?.['code']) });
      return;
    }
    // locationUpdated re-reads points as a list: each item is one subscription payload. Each is
    // serialised once for the whole group (graphql-ws would stringify per socket and await every
    // write); the engine writes them to each socket in one go.
    const [key, value] = Object.entries(r.data)[0]!;
    const errors = r.errors ? `,"errors":${JSON.stringify(r.errors)}` : '';
    const payloads = (Array.isArray(value) ? value : [value]).map(
      (item) => `{"data":${JSON.stringify({ [key]: item })}${errors}}`,
    );
    for (const s of this.subscribers) if (!s.send(payloads)) s.onOverflow();
  }
}

/** The live channel of one tenant, subscribed once per replica while anyone in it listens. */
class TenantFeed {
  readonly groups = new Map<string, Group>();
  count = 0;
  unsubscribe: Promise<() => Promise<void>> | null = null;

  constructor(
    readonly tenantId: string,
    private readonly log: Logger,
  ) {}

  onMessage = (message: string): void => {
    const e = parseLiveEvent(message);
    // The channel name carries the tenant; the payload must agree (defence in depth).
    if (!e || e.tenantId !== this.tenantId) {
      this.log.warn('live message refused', { tenantId: this.tenantId });
      return;
    }
    for (const g of this.groups.values()) {
      if (!g.matches(e)) continue;
      // Small batches carry their fields: location-only selections are served from the event.
      if (e.kind === 'location' && e.payload && g.servableFromEvent) g.push({ kind: 'event', event: e });
      else if (e.kind === 'location') g.push({ kind: 'points', pointIds: e.points.map((p) => p.id) });
      else if (e.kind === 'geofence') {
        const ids = e.events
          .filter((x) => g.op.geofenceId === null || x.geofenceId === g.op.geofenceId)
          .map((x) => x.id);
        // One re-read per committed batch (the job shape of a session event: explicit args).
        if (ids.length > 0) g.push({ kind: 'session', args: { eventIds: ids } });
      } else g.push({ kind: 'session', args: { sessionId: e.sessionId, type: e.type, at: e.at } });
    }
  };
}

/** Routes live events from per-tenant channels to groups of identical subscriptions. */
export class Fanout {
  private readonly feeds = new Map<string, TenantFeed>();
  private readonly limiter: Limiter;
  private readonly groupOf = new Map<Subscriber, Group>();
  /** Subscribers whose tenant channel is confirmed live. */
  private readonly ready = new Set<Subscriber>();
  private readonly served: ServedCounts = { fromEvent: 0, reRead: 0 };

  constructor(private readonly o: FanoutOptions) {
    this.limiter = new Limiter(o.maxConcurrentExecutions);
  }

  /** Subscribers of a tenant on this replica (per-tenant limit). */
  countFor(tenantId: string): number {
    return this.feeds.get(tenantId)?.count ?? 0;
  }

  /** Live subscribers on this replica. */
  subscriberCount(): number {
    return this.ready.size;
  }

  /** Events served from their payload vs gateway re-reads, since start. */
  servedCounts(): ServedCounts {
    return { ...this.served };
  }

  /** Distinct upstream sources (for metrics and tests of sharing). */
  groupCount(): number {
    let n = 0;
    for (const f of this.feeds.values()) n += f.groups.size;
    return n;
  }

  /** The group a subscription of this caller and operation joins (same key: same results). */
  static groupKey(m: Subscriber['caller']['membership'], op: LiveOperation): string {
    return `${scopeKey(m)}|${op.key}`;
  }

  /** Whether a group with this key is live (its subscription passed the engine's checks). */
  hasGroup(tenantId: string, key: string): boolean {
    return this.feeds.get(tenantId)?.groups.has(key) ?? false;
  }

  /** Adds a subscriber; resolves once its tenant channel is live (events after this are delivered). */
  async add(s: Subscriber): Promise<void> {
    const m = s.caller.membership;
    let feed = this.feeds.get(m.tenantId);
    if (!feed) {
      feed = new TenantFeed(m.tenantId, this.o.log);
      this.feeds.set(m.tenantId, feed);
    }
    const key = Fanout.groupKey(m, s.op);
    let group = feed.groups.get(key);
    if (!group) {
      group = new Group(key, s.op, m.role === 'TENANT_ADMIN' ? null : m.userId, this.o, this.limiter, this.served);
      feed.groups.set(key, group);
    }
    group.subscribers.add(s);
    this.groupOf.set(s, group);
    feed.count++;
    const f = feed;
    feed.unsubscribe ??= this.o.pubsub.subscribe(tenantChannel(m.tenantId, 'live'), (msg) => f.onMessage(msg));
    await feed.unsubscribe;
    if (this.groupOf.has(s)) this.ready.add(s);
  }

  /** Removes a subscriber (idempotent); the tenant channel is left when its last subscriber goes. */
  async remove(s: Subscriber): Promise<void> {
    const group = this.groupOf.get(s);
    if (!group) return;
    this.groupOf.delete(s);
    this.ready.delete(s);
    group.subscribers.delete(s);
    const tenantId = s.caller.membership.tenantId;
    const feed = this.feeds.get(tenantId);
    if (!feed) return;
    if (group.subscribers.size === 0) feed.groups.delete(group.key);
    feed.count--;
    if (feed.count === 0) {
      this.feeds.delete(tenantId);
      const off = await feed.unsubscribe;
      await off?.();
    }
  }
}
