import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  GraphQLError,
  getOperationAST,
  getVariableValues,
  parse,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type OperationDefinitionNode,
} from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCode, badUserInput, notFound, rateLimited } from '@lt/errors';
import type { IdentityEvent, IdentityWatch } from '@lt/identity';
import type { Logger } from '@lt/logger';
import type { PubSub } from '@lt/pubsub';
import type { Authenticated, Authenticator } from '../auth/types';
import type { RouterInternals } from '../createRouter';
import { variableField } from '../gateway/dataSource';
import { checkOperation, checkSource, unknownOperation } from '../plugins/limits';
import { CloseReason, EngineClose } from './closeCodes';
import { Fanout, type ServedCounts, type Subscriber } from './fanout';
import { analyseSubscription, eventVariables, type LiveField, type LiveOperation } from './operation';
import { LiveStream } from './liveStream';
import { SnapshotGate, sendSnapshot } from './snapshot';

export interface SubscriptionLimits {
  /** Active subscriptions per WebSocket. Default 20. */
  perConnection?: number;
  /** Active subscriptions per tenant on this replica. Default 2_000. */
  perTenant?: number;
  /**
   * Unsent bytes a socket may hold (results written but not yet taken by the client) before the
   * connection is dropped as a slow consumer (4008). Default 4 MiB, min 512 KiB: one commit
   * (a 1,000-point batch) arrives as one burst and a healthy consumer must be able to take it.
   */
  maxBufferedBytes?: number;
  /** Gateway executions in flight for live events, across all subscriptions. Default 32. */
  maxConcurrentExecutions?: number;
  /**
   * Points (or session events) waiting to be resolved per group of identical subscriptions.
   * Past it new events are not queued and the group's subscribers get a gap marker
   * (`LIVE_EVENTS_MISSED`) in their place. Default 50_000 (50 batches of 1,000; ids only, a few MB).
   */
  maxGroupBacklog?: number;
  /** Largest client message, bytes. Default 64 KiB. */
  maxPayloadBytes?: number;
}

export interface SubscriptionEngineOptions {
  authenticator: Authenticator;
  /** Live channels (Redis across replicas; memory embedded). */
  pubsub: PubSub;
  /** Closes sockets on logout, removal, role change, suspension. */
  identityWatch?: IdentityWatch;
  log: Logger;
  limits?: SubscriptionLimits;
  /** Path of the WebSocket endpoint. Default '/graphql' (same as HTTP). */
  path?: string;
  /** Clock, ms since epoch (token expiry tests). Default Date.now. */
  now?: () => number;
}

type TenantCaller = Subscriber['caller'];

/** The engine once attached to the router's HTTP server. */
export interface AttachedEngine {
  /** Closes every socket (1001) and the WebSocket server. */
  stop(): Promise<void>;
  /**
   * Open sockets, live subscriptions, and distinct upstream sources (identical subscriptions in
   * one scope share one). A subscription counts once events after it are delivered to it.
   */
  stats(): {
    connections: number;
    subscriptions: number;
    groups: number;
    /**
     * Live results served from the event's payload vs gateway re-reads (executions), and gap
     * markers queued, since start.
     */
    served: ServedCounts;
    /** Admission checks run since start (identical subscriptions in one scope share one). */
    admissions: number;
  };
}

/** One WebSocket after `connection_init`. */
interface Connection {
  socket: WebSocket;
  /** The TCP socket under it: corked while one delivery writes several messages. */
  raw: Duplex;
  caller: TenantCaller;
  subscribers: Set<LiveSubscriber>;
  /** Subscribe messages being checked (visibility, probe): they hold a slot of the limit. */
  pending: number;
  expiryTimer: NodeJS.Timeout | null;
}

/** What an operation over this socket returns to graphql-ws (its LiveStream, via `subscribe`). */
interface LiveContext {
  subscriber: LiveSubscriber;
}

/** A subscriber of this engine: the fan-out's view plus the stream graphql-ws waits on. */
interface LiveSubscriber extends Subscriber {
  stream: LiveStream;
}

/** The smallest slow-consumer limit: a 1,000-point burst of a small selection fits. */
const MIN_BUFFERED_BYTES = 512 * 1024;

/** setTimeout caps at 2^31-1 ms; re-arm for longer tokens. */
const MAX_TIMER = 2 ** 31 - 1;

/**
 * The router's subscription engine (graphql-transport-ws on the router's `/graphql`). The gateway
 * cannot run subscriptions, so: authenticate `connectionParams.authorization` like HTTP, check
 * visibility up front (`locationSession` as the caller: other tenants' ids are NOT_FOUND), listen
 * on the caller's tenant live channel, and resolve each event through the gateway as the caller
 * with the client's own selection (federated fields included) — or, when that selection only
 * touches fields a small point batch's event carries, straight from the event (direct.ts).
 * Returns the `onHttpServer` hook.
 */
export function createSubscriptionEngine(o: SubscriptionEngineOptions) {
  const limits = {
    perConnection: o.limits?.perConnection ?? 20,
    perTenant: o.limits?.perTenant ?? 2_000,
    maxBufferedBytes: Math.max(o.limits?.maxBufferedBytes ?? 4 * 1024 * 1024, MIN_BUFFERED_BYTES),
    maxConcurrentExecutions: o.limits?.maxConcurrentExecutions ?? 32,
    maxGroupBacklog: o.limits?.maxGroupBacklog ?? 50_000,
    maxPayloadBytes: o.limits?.maxPayloadBytes ?? 64 * 1024,
  };
  const now = o.now ?? Date.now;
  const log = o.log;

  return async function attach(server: Server, internals: RouterInternals): Promise<AttachedEngine> {
    const fanout = new Fanout({
      pubsub: o.pubsub,
      execute: internals.execute,
      schema: internals.schema,
      log,
      maxConcurrentExecutions: limits.maxConcurrentExecutions,
      maxGroupBacklog: limits.maxGroupBacklog,
    });
    const connections = new Map<WebSocket, Connection>();
    const wss = new WebSocketServer({ server, path: o.path ?? '/graphql', maxPayload: limits.maxPayloadBytes });

    const close = (conn: Connection, code: number, reason: string): void => {
      if (conn.socket.readyState === conn.socket.OPEN || conn.socket.readyState === conn.socket.CONNECTING) {
        log.info('closing subscription socket', { code, reason, tenantId: conn.caller.membership.tenantId });
        conn.socket.close(code, reason);
      }
      dispose(conn);
    };
    const dispose = (conn: Connection): void => {
      if (conn.expiryTimer) clearTimeout(conn.expiryTimer);
      conn.expiryTimer = null;
      for (const s of conn.subscribers) {
        s.stream.end();
        void fanout.remove(s);
      }
      conn.subscribers.clear();
      connections.delete(conn.socket);
    };
    const armExpiry = (conn: Connection, expiresAtMs: number): void => {
      const wait = expiresAtMs - now();
      conn.expiryTimer = setTimeout(
        () =>
          wait > MAX_TIMER
            ? armExpiry(conn, expiresAtMs)
            : close(conn, EngineClose.UNAUTHORIZED, CloseReason.TOKEN_EXPIRED),
        Math.max(0, Math.min(wait, MAX_TIMER)),
      );
      conn.expiryTimer.unref();
    };

    const onIdentity = (e: IdentityEvent): void => {
      for (const conn of [...connections.values()]) {
        const m = conn.caller.membership;
        switch (e.type) {
          case 'tenant.status':
            if (e.status === 'SUSPENDED' && m.tenantId === e.tenantId)
              close(conn, EngineClose.UNAUTHORIZED, CloseReason.TENANT_SUSPENDED);
            break;
          case 'user.changed':
            if (m.userId === e.userId || m.sub === e.sub) {
              if (e.role === null) close(conn, EngineClose.UNAUTHORIZED, CloseReason.USER_REMOVED);
              else if (e.role !== m.role || e.tenantId !== m.tenantId)
                close(conn, EngineClose.UNAUTHORIZED, CloseReason.MEMBERSHIP_CHANGED);
            }
            break;
          case 'token.revoked':
            if (conn.caller.tokenId !== null && conn.caller.tokenId === e.tokenId)
              close(conn, EngineClose.UNAUTHORIZED, CloseReason.TOKEN_REVOKED);
            break;
          case 'user.signed_out':
            // Every socket open now was authenticated with a token issued before the sign-out.
            if (m.sub === e.sub) close(conn, EngineClose.UNAUTHORIZED, CloseReason.TOKEN_REVOKED);
            break;
          default: {
            const never: never = e;
            void never;
          }
        }
      }
    };
    const unwatch = o.identityWatch?.subscribe(onIdentity);

    const server_ = useServer<Record<string, unknown>, { socket: WebSocket; request: IncomingMessage }>(
      {
        schema: internals.schema,
        connectionInitWaitTimeout: 5_000,
        async onConnect(ctx) {
          const { socket, request } = ctx.extra;
          const authorization = ctx.connectionParams?.['authorization'];
          let auth: Authenticated | null = null;
          try {
            auth = typeof authorization === 'string' ? await o.authenticator.authenticate(authorization) : null;
          } catch (err) {
            // UNAUTHENTICATED from the authenticator (bad, expired, revoked, suspended): never say which.
            if (!(err instanceof GraphQLError) || err.extensions['code'] !== 'UNAUTHENTICATED') {
              // Our failure (cache or database unavailable), not the token's: a retryable close,
              // where 4401 would make clients throw their token away.
              log.error('authentication failed', { err });
              socket.close(EngineClose.TRY_AGAIN_LATER, CloseReason.TRY_AGAIN_LATER);
              return false;
            }
          }
          if (!auth) {
            socket.close(EngineClose.UNAUTHORIZED, CloseReason.UNAUTHENTICATED);
            return false;
          }
          const m = auth.membership;
          if (m.tenantId === null) {
            socket.close(EngineClose.FORBIDDEN, CloseReason.NEEDS_TENANT);
            return false;
          }
          const conn: Connection = {
            socket,
            raw: request.socket,
            caller: {
              membership: { ...m, tenantId: m.tenantId },
              requestId: randomUUID(),
              tokenId: auth.tokenId,
              tokenExpiresAt: auth.expiresAt,
              clientAddress: request.socket.remoteAddress ?? null,
            },
            subscribers: new Set(),
            pending: 0,
            expiryTimer: null,
          };
          connections.set(socket, conn);
          armExpiry(conn, auth.expiresAt * 1000);
          return true;
        },

        async onSubscribe(ctx, id, payload) {
          const conn = connections.get(ctx.extra.socket);
          if (!conn)
            return [new GraphQLError('Connection is closing', { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
          // The HTTP path's checks, in its order and with its codes: nesting before parsing, the
          // token limit while parsing, validation against the API schema, the operation's
          // name, the operation limits, then the variables coerced to their declared types.
          const opLimits = internals.limits;
          const source = typeof payload.query === 'string' ? payload.query : '';
          const tooDeep = checkSource(source, opLimits);
          if (tooDeep) return [forSocket(tooDeep)];
          let document: DocumentNode;
          try {
            document = parse(source, { maxTokens: opLimits.maxTokens });
          } catch (err) {
            const e = err instanceof GraphQLError ? err : new GraphQLError('Syntax error');
            return [forSocket(e, ErrorCode.GRAPHQL_PARSE_FAILED)];
          }
          const errors = validate(internals.schema, document);
          if (errors.length) return errors.map((e) => forSocket(e, ErrorCode.GRAPHQL_VALIDATION_FAILED));
          const operation = getOperationAST(document, payload.operationName);
          if (!operation) return [forSocket(unknownOperation(payload.operationName))];
          if (operation.operation !== 'subscription')
            return [
              badUserInput('Only subscriptions run over WebSocket; send queries and mutations over HTTP', 'query'),
            ];
          const overLimit = checkOperation(document, operation, opLimits);
          if (overLimit) return [forSocket(overLimit)];
          const coerced = getVariableValues(
            internals.schema,
            operation.variableDefinitions ?? [],
            payload.variables ?? {},
          );
          if (coerced.errors)
            return coerced.errors.map((e) => {
              const field = variableField(e.message);
              return forSocket(e, ErrorCode.BAD_USER_INPUT, field ? { field } : {});
            });
          // Slots are reserved before the first await: concurrent subscribe messages count too.
          if (conn.subscribers.size + conn.pending >= limits.perConnection) return [rateLimited(5)];
          conn.pending++;
          try {
            return await subscribe(conn, id, document, operation, payload, coerced.coerced);
          } finally {
            conn.pending--;
          }
        },

        subscribe(args) {
          return (args.contextValue as LiveContext).subscriber.stream;
        },

        onClose(ctx) {
          const conn = connections.get(ctx.extra.socket);
          if (conn) dispose(conn);
        },
      },
      wss,
      // Keep-alive pings every 12 s; a peer that does not pong is terminated.
      12_000,
    );

    /** Admission checks in flight, by group key. */
    const admissions = new Map<string, Promise<GraphQLError[]>>();
    let admissionsRun = 0;
    /** Why a subscription of this caller and operation is refused; empty when it may go live. */
    async function admit(caller: TenantCaller, op: LiveOperation): Promise<GraphQLError[]> {
      admissionsRun++;
      if (op.sessionId !== null) {
        const seen = await internals.execute({ ...caller, requestId: randomUUID() }, SESSION_VISIBLE, {
          id: op.sessionId,
        });
        const session = (seen.data as { locationSession?: unknown } | null | undefined)?.locationSession;
        if (!session) {
          const code = seen.errors?.[0]?.extensions?.['code'];
          if (code && code !== 'NOT_FOUND')
            return [new GraphQLError(seen.errors![0]!.message, { extensions: { code } })];
          return [notFound('Location session', 'sessionId')];
        }
      }
      if (op.geofenceId !== null) {
        const seen = await internals.execute({ ...caller, requestId: randomUUID() }, GEOFENCE_VISIBLE, {
          id: op.geofenceId,
        });
        if (!(seen.data as { geofence?: unknown } | null | undefined)?.geofence) {
          const code = seen.errors?.[0]?.extensions?.['code'];
          if (code && code !== 'NOT_FOUND')
            return [new GraphQLError(seen.errors![0]!.message, { extensions: { code } })];
          return [notFound('Geofence', 'geofenceId')];
        }
      }
      const probe = await internals.execute(
        { ...caller, requestId: randomUUID() },
        op.refetch,
        eventVariables(op, PROBE[op.field]),
      );
      const refused = probe.errors?.filter((e) => e.extensions?.['code'] !== 'NOT_FOUND') ?? [];
      return refused.map((e) => new GraphQLError(e.message, { extensions: e.extensions ?? {} }));
    }

    async function subscribe(
      conn: Connection,
      id: string,
      document: DocumentNode,
      operation: OperationDefinitionNode,
      payload: SubscribePayload,
      variables: Record<string, unknown>,
    ): Promise<ExecutionArgs | readonly GraphQLError[]> {
      if (fanout.countFor(conn.caller.membership.tenantId) >= limits.perTenant) return [rateLimited(30)];
      let op;
      try {
        op = analyseSubscription(document, operation, variables);
      } catch (err) {
        return [err as GraphQLError];
      }
      // Admission: the session is visible to the caller (other tenants' ids are NOT_FOUND), and a
      // probe of the re-read (no event matches the nil id) passes: operation limits, field
      // authorization and other plugin refusals reach the client here, not silently per event.
      // Identical subscriptions in one scope get identical answers: a live group means its
      // admission passed, and concurrent admissions of one group share one check (a reconnect
      // storm of a thousand dashboards costs one check per group, not thousands of gateway calls).
      const key = Fanout.groupKey(conn.caller.membership, op);
      if (!fanout.hasGroup(conn.caller.membership.tenantId, key)) {
        let check = admissions.get(key);
        if (!check) {
          check = admit(conn.caller, op).finally(() => admissions.delete(key));
          admissions.set(key, check);
        }
        const refused = await check;
        if (refused.length > 0) return refused;
      }
      if (!connections.has(conn.socket))
        return [new GraphQLError('Connection closed', { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
      // Results bypass graphql-ws's per-message path (stringify per socket, await every write):
      // the fan-out hands over payloads serialised once per group; they go out as `next`
      // messages of this subscription id, corked so one delivery is one write to the socket.
      const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
      const write = (results: readonly string[]): boolean => {
        const socket = conn.socket;
        if (subscriber.stream.isEnded || socket.readyState !== socket.OPEN) return true;
        if (socket.bufferedAmount > limits.maxBufferedBytes) return false;
        conn.raw.cork();
        try {
          for (const r of results) socket.send(`${prefix}${r}}`);
        } finally {
          conn.raw.uncork();
        }
        return true;
      };
      // includeLatest: live results are held until the snapshot (read once the live group is joined) is out.
      const gate = op.includeLatest ? new SnapshotGate(write, limits.maxBufferedBytes) : null;
      const subscriber: LiveSubscriber = {
        caller: conn.caller,
        op,
        stream: new LiveStream(() => {
          conn.subscribers.delete(subscriber);
          void fanout.remove(subscriber);
        }),
        send: gate ? gate.send : write,
        onOverflow: () => close(conn, EngineClose.SLOW_CONSUMER, CloseReason.SLOW_CONSUMER),
      };
      conn.subscribers.add(subscriber);
      try {
        await fanout.add(subscriber);
      } catch (err) {
        // The live channel could not be joined (pub/sub down): this subscription is refused with
        // its code; the socket and its other subscriptions stay.
        conn.subscribers.delete(subscriber);
        if (err instanceof GraphQLError) return [err];
        throw err;
      }
      if (gate) void sendSnapshot(internals.execute, subscriber, gate, subscriber.onOverflow);
      const args: ExecutionArgs = {
        schema: internals.schema,
        document,
        operationName: payload.operationName ?? null,
        variableValues: payload.variables ?? null,
        contextValue: { subscriber } satisfies LiveContext,
      };
      return args;
    }

    return {
      async stop() {
        unwatch?.();
        fanout.close();
        for (const conn of [...connections.values()]) close(conn, EngineClose.GOING_AWAY, 'Router shutting down');
        await server_.dispose();
      },
      stats: () => ({
        connections: connections.size,
        subscriptions: fanout.subscriberCount(),
        groups: fanout.groupCount(),
        served: fanout.servedCounts(),
        admissions: admissionsRun,
      }),
    };
  };
}

/**
 * An error as sent over the socket: with `extensions.code` (`code` when it has none, as Apollo
 * Server adds on HTTP) and without the HTTP-only `http` extension.
 */
function forSocket(e: GraphQLError, code?: string, extra: Record<string, unknown> = {}): GraphQLError {
  const { http: _http, ...own } = e.extensions;
  const extensions = { ...own, ...extra };
  return new GraphQLError(e.message, {
    ...(e.source ? { source: e.source } : {}),
    ...(e.positions ? { positions: e.positions } : {}),
    extensions: { ...extensions, code: extensions['code'] ?? code ?? ErrorCode.BAD_REQUEST },
  });
}

const NIL = '00000000-0000-0000-0000-000000000000';
const PROBE: Record<LiveField, Record<string, unknown>> = {
  locationUpdated: { pointIds: [] },
  sessionEvents: { sessionId: NIL, type: 'STARTED', at: new Date(0).toISOString() },
  geofenceEvents: { eventIds: [] },
};
const GEOFENCE_VISIBLE = parse('query SubscriptionGeofence($id: ID!) { geofence(id: $id) { id } }');

const SESSION_VISIBLE = parse('query SubscriptionVisibility($id: ID!) { locationSession(id: $id) { id } }');
