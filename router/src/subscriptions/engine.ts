import type { IncomingMessage, Server } from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCode, rateLimited } from '@lt/errors';
import type { IdentityWatch } from '@lt/identity';
import type { Logger } from '@lt/logger';
import type { PubSub } from '@lt/pubsub';
import type { Authenticator } from '../auth/types';
import type { RouterInternals } from '../createRouter';
import { Admission } from './admission';
import { CloseReason, EngineClose } from './closeCodes';
import { Connections, type Connection, type LiveSubscriber } from './connections';
import { Fanout, type ServedCounts } from './fanout';
import { identityCloseReason } from './identityCloses';
import { resolveLimits, type SubscriptionLimits } from './limits';
import { LiveStream } from './liveStream';
import { analyseSubscription } from './operation';
import { SnapshotGate, sendSnapshot } from './snapshot';
import { socketWriter } from './socketWriter';
import { checkSubscribeMessage, type CheckedSubscribe } from './subscribeMessage';

export type { SubscriptionLimits } from './limits';

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

/** What an operation over this socket returns to graphql-ws (its LiveStream, via `subscribe`). */
interface LiveContext {
  subscriber: LiveSubscriber;
}

/**
 * The router's subscription engine (graphql-transport-ws on the router's `/graphql`; the client
 * protocol is in PROTOCOL.md beside this file). The gateway cannot run subscriptions, so:
 * authenticate `connectionParams.authorization` like HTTP (connections.ts), check each subscribe
 * message like HTTP (subscribeMessage.ts), admit it once per group (admission.ts), listen on the
 * caller's tenant live channel and resolve each event through the gateway as the caller with the
 * client's own selection (federated fields included) — or, when that selection only touches fields
 * a small point batch's event carries, straight from the event (direct.ts) — and write the results
 * to the socket (socketWriter.ts). Identity events close the sockets they concern
 * (identityCloses.ts). Returns the `onHttpServer` hook.
 */
export function createSubscriptionEngine(o: SubscriptionEngineOptions) {
  const limits = resolveLimits(o.limits);
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
    const connections = new Connections({ authenticator: o.authenticator, fanout, log, now });
    const admission = new Admission(internals.execute, fanout);
    const wss = new WebSocketServer({ server, path: o.path ?? '/graphql', maxPayload: limits.maxPayloadBytes });

    const unwatch = o.identityWatch?.subscribe((e) => {
      for (const conn of connections.all()) {
        const reason = identityCloseReason(e, conn.caller);
        if (reason) connections.close(conn, EngineClose.UNAUTHORIZED, reason);
      }
    });

    const server_ = useServer<Record<string, unknown>, { socket: WebSocket; request: IncomingMessage }>(
      {
        schema: internals.schema,
        connectionInitWaitTimeout: 5_000,
        onConnect(ctx) {
          return connections.accept(ctx.extra.socket, ctx.extra.request, ctx.connectionParams?.['authorization']);
        },

        async onSubscribe(ctx, id, payload) {
          const conn = connections.get(ctx.extra.socket);
          if (!conn)
            return [new GraphQLError('Connection is closing', { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
          const checked = checkSubscribeMessage(internals, payload);
          if (!('document' in checked)) return checked;
          // Slots are reserved before the first await: concurrent subscribe messages count too.
          if (conn.subscribers.size + conn.pending >= limits.perConnection) return [rateLimited(5)];
          conn.pending++;
          try {
            return await subscribe(conn, id, checked, payload);
          } finally {
            conn.pending--;
          }
        },

        subscribe(args) {
          return (args.contextValue as LiveContext).subscriber.stream;
        },

        onClose(ctx) {
          const conn = connections.get(ctx.extra.socket);
          if (conn) connections.dispose(conn);
        },
      },
      wss,
      // Keep-alive pings every 12 s; a peer that does not pong is terminated.
      12_000,
    );

    async function subscribe(
      conn: Connection,
      id: string,
      { document, operation, variables }: CheckedSubscribe,
      payload: SubscribePayload,
    ): Promise<ExecutionArgs | readonly GraphQLError[]> {
      if (fanout.countFor(conn.caller.membership.tenantId) >= limits.perTenant) return [rateLimited(30)];
      let op;
      try {
        op = analyseSubscription(document, operation, variables);
      } catch (err) {
        return [err as GraphQLError];
      }
      const check = admission.check(conn.caller, op);
      if (check) {
        const refused = await check;
        if (refused.length > 0) return refused;
      }
      if (!connections.has(conn))
        return [new GraphQLError('Connection closed', { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
      const write = socketWriter(conn, id, limits.maxBufferedBytes, () => subscriber.stream.isEnded);
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
        onOverflow: () => connections.close(conn, EngineClose.SLOW_CONSUMER, CloseReason.SLOW_CONSUMER),
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
        for (const conn of connections.all()) connections.close(conn, EngineClose.GOING_AWAY, 'Router shutting down');
        await server_.dispose();
      },
      stats: () => ({
        connections: connections.size,
        subscriptions: fanout.subscriberCount(),
        groups: fanout.groupCount(),
        served: fanout.servedCounts(),
        admissions: admission.runs,
      }),
    };
  };
}
