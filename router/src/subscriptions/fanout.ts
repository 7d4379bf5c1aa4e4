import { randomUUID } from 'node:crypto';
import type { ExecutionResult, FormattedExecutionResult, GraphQLSchema } from 'graphql';
import type { Caller } from '@lt/context';
import { ErrorCode, serviceUnavailable } from '@lt/errors';
import type { Logger } from '@lt/logger';
import { parseLiveEvent, type LiveEvent } from '@lt/events';
import { tenantChannel, type PubSub } from '@lt/pubsub';
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
  send(results: readonly string[], pointIds?: readonly string[] | null): boolean;
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
  /**
   * Points (or session events) waiting to be resolved per group. Past it, new events are not
   * queued: the group's subscribers get a gap marker (LIVE_EVENTS_MISSED) in their place.
   */
  maxGroupBacklog: number;
}

/** Points re-read per gateway execution at most (the subgraph's `liveLocationUpdates` limit). */
const RESOLVE_CHUNK = 500;

/** Session ids a gap marker names at most; past it the marker names none (any visible session). */
const GAP_MAX_SESSION_IDS = 100;

/** The error code of a gap marker: events of this subscription were missed; re-read to resync. */
export const LIVE_EVENTS_MISSED = 'LIVE_EVENTS_MISSED';

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
  | { kind: 'points'; pointIds: string[]; sessionId: string }
  | { kind: 'session'; args: Record<string, unknown> }
  /** Served from the event's payload, without a gateway execution. */
  | { kind: 'event'; event: LocationEvent }
  /**
   * Events missed at this point of the stream (backlog full, lost publish, transport reconnect):
   * delivered in order as one gap marker. `missed`/`sessionIds` null: unknown (any visible session).
   */
  | { kind: 'gap'; missed: number | null; sessionIds: Set<string> | null };

/** How live results were produced (stats, tests, bench). */
export interface ServedCounts {
  /** Events served from their payload (no gateway execution). */
  fromEvent: number;
  /** Gateway re-reads. */
  reRead: number;
  /** Gap markers queued (each tells a group's subscribers that events were missed). */
  gaps: number;
}

/**
 * The gap marker: a graphql-ws `next` payload with no data and one error, so every client sees it
 * (an ignored marker is still a visible error). The subscription stays live after it.
 */
export function gapMarker(missed: number | null, sessionIds: readonly string[] | null): string {
  return JSON.stringify({
    data: null,
    errors: [
      {
        message: 'Live events were missed: re-read the data this subscription watches to resync',
        extensions: { code: LIVE_EVENTS_MISSED, missed, sessionIds },
      },
    ],
  });
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
    const kind = e.kind === 'gap' ? e.of : e.kind;
    if (this.op.field === 'geofenceEvents') return kind === 'geofence';
    return this.op.field === 'locationUpdated' ? kind === 'location' : kind === 'session';
  }

  push(job: Job): void {
    if (job.kind === 'gap') return this.gap(job.missed, job.sessionIds);
    const size = job.kind === 'points' ? job.pointIds.length : job.kind === 'event' ? job.event.points.length : 1;
    if (this.backlog + size > this.o.maxGroupBacklog) {
      // Never a silent drop: the subscribers get a gap marker where these events would have been.
      const sessionId =
        job.kind === 'event' ? job.event.sessionId : job.kind === 'points' ? job.sessionId : job.args['sessionId'];
      this.gap(size, typeof sessionId === 'string' ? new Set([sessionId]) : null);
      return;
    }
    this.backlog += size;
    this.jobs.push(job);
    if (!this.running) void this.run();
  }

  /** Queues a gap marker in stream order; consecutive gaps merge into one marker. */
  private gap(missed: number | null, sessionIds: Set<string> | null): void {
    const last = this.jobs.at(-1);
    if (last?.kind === 'gap') {
      last.missed = last.missed === null || missed === null ? null : last.missed + missed;
      if (last.sessionIds && sessionIds) for (const id of sessionIds) last.sessionIds.add(id);
      else last.sessionIds = null;
      if (last.sessionIds && last.sessionIds.size > GAP_MAX_SESSION_IDS) last.sessionIds = null;
      return;
    }
    this.served.gaps++;
    this.o.log.warn('live events missed: gap marker queued', { group: this.key, missed, backlog: this.backlog });
    this.jobs.push({ kind: 'gap', missed, sessionIds: sessionIds ? new Set(sessionIds) : null });
    if (!this.running) void this.run();
  }

  /** Takes the next execution's worth of work: consecutive point jobs merge up to RESOLVE_CHUNK ids. */
  private take(): {
    args: Record<string, unknown>;
    size: number;
    /** Sessions the work is about (named by a gap marker if it cannot be delivered). */
    sessionIds: string[];
    event?: LocationEvent;
    gap?: Extract<Job, { kind: 'gap' }>;
  } | null {
    const head = this.jobs[0];
    if (!head) return null;
    if (head.kind === 'gap') {
      this.jobs.shift();
      return { args: {}, size: 0, sessionIds: [], gap: head };
    }
    if (head.kind === 'session') {
      this.jobs.shift();
      return { args: head.args, size: 1, sessionIds: [String(head.args['sessionId'])] };
    }
    if (head.kind === 'event') {
      this.jobs.shift();
      return { args: {}, size: head.event.points.length, sessionIds: [head.event.sessionId], event: head.event };
    }
    const ids: string[] = [];
    const sessionIds = new Set<string>();
    while (this.jobs[0]?.kind === 'points' && ids.length < RESOLVE_CHUNK) {
      const j = this.jobs[0];
      sessionIds.add(j.sessionId);
      const room = RESOLVE_CHUNK - ids.length;
      ids.push(...j.pointIds.slice(0, room));
      if (j.pointIds.length <= room) this.jobs.shift();
      else j.pointIds = j.pointIds.slice(room);
    }
    return { args: { pointIds: ids }, size: ids.length, sessionIds: [...sessionIds] };
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (let work = this.take(); work; work = this.take()) {
        try {
          const args = work.args;
          if (work.gap) {
            const ids = work.gap.sessionIds ? [...work.gap.sessionIds] : null;
            this.write([gapMarker(work.gap.missed, ids)]);
            continue;
          }
          if (work.event) {
            // Visibility: the tenant's channel, and matches() (MEMBER: own sessions; sessionId).
            this.served.fromEvent++;
            const ids = work.event.payload?.points.map((p) => p.id) ?? null;
            if (!this.deliver(resolveFromEvent(this.o.schema, this.op, work.event), ids))
              this.missed(work.size, work.sessionIds);
            continue;
          }
          const ids = Array.isArray(args['pointIds']) ? (args['pointIds'] as string[]) : null;
          if (!this.deliver(await this.limiter.run(() => this.resolve(args)), ids))
            this.missed(work.size, work.sessionIds);
        } catch (err) {
          this.o.log.error('live event resolution failed', { err });
          this.missed(work.size, work.sessionIds);
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

  /**
   * Work that could not be resolved (a subgraph unavailable, an error): its subscribers get a gap
   * marker right where it was in the stream, never nothing.
   */
  private missed(size: number, sessionIds: string[]): void {
    this.served.gaps++;
    this.o.log.warn('live events missed: resolution failed, gap marker sent', { group: this.key, missed: size });
    this.write([
      gapMarker(size, sessionIds.length > 0 && sessionIds.length <= GAP_MAX_SESSION_IDS ? sessionIds : null),
    ]);
  }

  /** Writes a result to the group; false when it failed (errors other than "not visible"). */
  private deliver(r: FormattedExecutionResult | ExecutionResult | null, pointIds: string[] | null = null): boolean {
    if (!r) return true;
    // Not (or no longer) visible to this scope, or gone: nothing to deliver.
    if (!r.data || Object.values(r.data).every((v) => v === null)) {
      if (r.errors?.some((e) => e.extensions?.['code'] !== ErrorCode.NOT_FOUND)) {
        this.o.log.warn('live event resolved with errors', { codes: r.errors.map((e) => e.extensions?.['code']) });
        return false;
      }
      return true;
    }
    // locationUpdated re-reads points as a list: each item is one subscription payload. Each is
    // serialised once for the whole group (graphql-ws would stringify per socket and await every
    // write); the engine writes them to each socket in one go.
    const [key, value] = Object.entries(r.data)[0]!;
    const errors = r.errors ? `,"errors":${JSON.stringify(r.errors)}` : '';
    const payloads = (Array.isArray(value) ? value : [value]).map(
      (item) => `{"data":${JSON.stringify({ [key]: item })}${errors}}`,
    );
    // Point ids of the payloads, when they match one to one (a snapshot subscriber dedupes by them).
    this.write(payloads, pointIds && pointIds.length === payloads.length ? pointIds : null);
    return true;
  }

  private write(payloads: string[], pointIds: string[] | null = null): void {
    for (const s of this.subscribers) if (!s.send(payloads, pointIds)) s.onOverflow();
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
      if (e.kind === 'gap') {
        g.push({ kind: 'gap', missed: e.missed, sessionIds: new Set([e.sessionId]) });
        continue;
      }
      // Small batches carry their fields: location-only selections are served from the event.
      if (e.kind === 'location' && e.payload && g.servableFromEvent) g.push({ kind: 'event', event: e });
      else if (e.kind === 'location')
        g.push({ kind: 'points', pointIds: e.points.map((p) => p.id), sessionId: e.sessionId });
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
  private readonly served: ServedCounts = { fromEvent: 0, reRead: 0, gaps: 0 };
  private readonly offGap: (() => void) | undefined;

  constructor(private readonly o: FanoutOptions) {
    this.limiter = new Limiter(o.maxConcurrentExecutions);
    // The transport itself lost messages (Redis subscription reconnected): every group may have.
    this.offGap = o.pubsub.onGap?.(() => this.gapEverywhere());
  }

  /** Tells every subscriber on this replica that events may have been missed (count unknown). */
  gapEverywhere(): void {
    for (const feed of this.feeds.values())
      for (const g of feed.groups.values()) g.push({ kind: 'gap', missed: null, sessionIds: null });
  }

  /** Stops listening for transport gaps. */
  close(): void {
    this.offGap?.();
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
    if (!feed.unsubscribe) {
      const joining = this.o.pubsub.subscribe(tenantChannel(m.tenantId, 'live'), (msg) => f.onMessage(msg));
      feed.unsubscribe = joining;
      // A channel that could not be joined (pub/sub down) is forgotten: the next subscriber retries.
      joining.catch(() => {
        if (f.unsubscribe === joining) f.unsubscribe = null;
      });
    }
    try {
      await feed.unsubscribe;
    } catch (err) {
      await this.remove(s);
      this.o.log.warn('live channel unavailable: subscription refused', {
        tenantId: m.tenantId,
        err: { name: (err as Error)?.name, message: (err as Error)?.message },
      });
      throw serviceUnavailable('Live updates are unavailable right now; subscribe again shortly');
    }
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
      // A channel never joined (pub/sub down) has nothing to leave.
      const off = await feed.unsubscribe?.catch(() => null);
      await off?.().catch(() => undefined);
    }
  }
}
