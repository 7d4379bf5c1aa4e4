import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError } from 'graphql';
import type { WebSocket } from 'ws';
import { ErrorCode } from '@lt/errors';
import type { Logger } from '@lt/logger';
import type { Authenticated, Authenticator } from '../auth/types';
import { CloseReason, EngineClose } from './closeCodes';
import type { Fanout, Subscriber } from './fanout';
import type { LiveStream } from './liveStream';

/** A subscriber of this engine: the fan-out's view plus the stream graphql-ws waits on. */
export interface LiveSubscriber extends Subscriber {
  stream: LiveStream;
}

/** One WebSocket after `connection_init`. */
export interface Connection {
  socket: WebSocket;
  /** The TCP socket under it: corked while one delivery writes several messages. */
  raw: Duplex;
  caller: Subscriber['caller'];
  subscribers: Set<LiveSubscriber>;
  /** Subscribe messages being checked (visibility, probe): they hold a slot of the limit. */
  pending: number;
  expiryTimer: NodeJS.Timeout | null;
}

/** setTimeout caps at 2^31-1 ms; re-arm for longer tokens. */
const MAX_TIMER = 2 ** 31 - 1;

/**
 * The open, authenticated connections: opened on `connection_init` (the token checked like on
 * HTTP), closed when their token expires, on an identity change, as slow consumers or on shutdown;
 * closing one ends its subscriptions.
 */
export class Connections {
  private readonly open = new Map<WebSocket, Connection>();

  constructor(private readonly o: { authenticator: Authenticator; fanout: Fanout; log: Logger; now: () => number }) {}

  get size(): number {
    return this.open.size;
  }

  get(socket: WebSocket): Connection | undefined {
    return this.open.get(socket);
  }

  has(conn: Connection): boolean {
    return this.open.has(conn.socket);
  }

  all(): Connection[] {
    return [...this.open.values()];
  }

  /**
   * `connection_init`: authenticate `connectionParams.authorization` like HTTP. On refusal the
   * socket is closed with its code (PROTOCOL.md, "Close codes") and the answer is false.
   */
  async accept(socket: WebSocket, request: IncomingMessage, authorization: unknown): Promise<boolean> {
    let auth: Authenticated | null = null;
    try {
      auth = typeof authorization === 'string' ? await this.o.authenticator.authenticate(authorization) : null;
    } catch (err) {
      // UNAUTHENTICATED from the authenticator (bad, expired, revoked, suspended): never say which.
      if (!(err instanceof GraphQLError) || err.extensions['code'] !== ErrorCode.UNAUTHENTICATED) {
        // Our failure (cache or database unavailable), not the token's: a retryable close,
        // where 4401 would make clients throw their token away.
        this.o.log.error('authentication failed', { err });
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
    this.open.set(socket, conn);
    this.armExpiry(conn, auth.expiresAt * 1000);
    return true;
  }

  /** Closes the socket with `code` (if still open) and ends its subscriptions. */
  close(conn: Connection, code: number, reason: string): void {
    const socket = conn.socket;
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
      this.o.log.info('closing subscription socket', { code, reason, tenantId: conn.caller.membership.tenantId });
      socket.close(code, reason);
    }
    this.dispose(conn);
  }

  /** Forgets a connection whose socket closed: its subscriptions end, its expiry timer stops. */
  dispose(conn: Connection): void {
    if (conn.expiryTimer) clearTimeout(conn.expiryTimer);
    conn.expiryTimer = null;
    for (const s of conn.subscribers) {
      s.stream.end();
      void this.o.fanout.remove(s);
    }
    conn.subscribers.clear();
    this.open.delete(conn.socket);
  }

  private armExpiry(conn: Connection, expiresAtMs: number): void {
    const wait = expiresAtMs - this.o.now();
    conn.expiryTimer = setTimeout(
      () =>
        wait > MAX_TIMER
          ? this.armExpiry(conn, expiresAtMs)
          : this.close(conn, EngineClose.UNAUTHORIZED, CloseReason.TOKEN_EXPIRED),
      Math.max(0, Math.min(wait, MAX_TIMER)),
    );
    conn.expiryTimer.unref();
  }
}
