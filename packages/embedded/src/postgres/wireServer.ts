/**
 * Serves one PGlite instance over TCP to many clients, CORRECTLY under concurrent transactions.
 *
 * PGlite is a single Postgres backend: one session that every client would share. pglite-socket
 * 0.2.17 queues single wire messages, so two clients' extended-protocol sequences (Parse/Bind/
 * Execute/Sync) can interleave and clobber each other's unnamed statement, and their session
 * settings leak. This server instead gives the backend to ONE connection at a time, from that
 * connection's first message until the backend reports ReadyForQuery with status Idle: a whole
 * transaction (BEGIN … COMMIT) or a whole autocommit statement runs alone. Transactions are thus
 * serialised — trivially serialisable — so `set_config(…, true)` and uncommitted rows are never
 * visible to another client, advisory xact locks and `FOR UPDATE SKIP LOCKED` behave as on a
 * real server with no contention, and nothing is lost if a client disappears mid-transaction
 * (its transaction is rolled back before the next client runs).
 *
 * Roles: PGlite always runs as its bootstrap superuser. Each connection declares a user in its
 * startup packet; only `roles` are accepted, and before a connection runs the server issues
 * `SET ROLE <user>`, so RLS and grants apply to that role exactly as on real Postgres
 * (current_user is the role; it is NOSUPERUSER NOBYPASSRLS for lt_app). A client could undo that
 * with SQL (`RESET ROLE`, `SET SESSION AUTHORIZATION`, `set_config('role', …)`, `DISCARD ALL`);
 * the guard below refuses those statements. It is a text filter — defence in depth for a
 * development stand-in, not a privilege boundary like a real server's authentication.
 */
import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import {
  CANCEL_REQUEST,
  GSSENC_REQUEST,
  PROTOCOL_V3,
  SSL_REQUEST,
  SYNC_MESSAGE,
  errorResponse,
  firstError,
  lastReadyStatus,
  parseStartupParams,
  queryMessage,
  readStartupPacket,
  splitMessages,
  sqlOf,
  startupReply,
  withSql,
  type TxStatus,
} from './protocol';

export interface WireServerOptions {
  db: PGlite;
  /** Users a client may connect as (each must be a role in the database). */
  roles: readonly string[];
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) = any free port. */
  port?: number;
  /** ParameterStatus values sent at startup (server_version, TimeZone, …). */
  parameters: Record<string, string>;
  /**
   * Called once when a connection has waited `slowWaitMs` for another one's transaction. The usual
   * cause is a transaction that awaits a second connection of its own (e.g. a query on `db` inside
   * `withTenant` instead of on `tx`): on a real server that works, here it waits for itself until
   * the transaction's timeout.
   */
  onSlowWait?: (info: { waitedMs: number; holderRole: string | undefined; waiting: number }) => void;
  /** Default 3_000. */
  slowWaitMs?: number;
}

export interface WireServerStats {
  /** Open client connections. */
  connections: number;
  /** Times the backend was handed to a connection (≈ transactions + autocommit statements). */
  turns: number;
  /** Turns that had to wait for another connection's transaction, and the longest wait (ms). */
  waits: number;
  maxWaitMs: number;
  /** Statements refused by the role guard. */
  refused: number;
}

export interface WireServer {
  port: number;
  host: string;
  stats(): WireServerStats;
  /** Closes every connection (rolling back an open transaction), then the listener. */
  stop(): Promise<void>;
}

// Statements that would change who the session is. Checked on the raw SQL and with comments
// removed two ways (non-greedy and greedy, for nested comments), so `SET/**/ROLE` is caught too.
const FORBIDDEN: readonly RegExp[] = [
  /\bset\s+(?:session\s+|local\s+)?(?:"?role"?|session\s+authorization)\b/i,
  /\breset\s+(?:"?role"?|session\s+authorization|all)\b/i,
  /\bsession_authorization\b/i,
  /\bdiscard\s+all\b/i,
  /\bset_config\s*\(\s*(?!'app\.)/i,
];
const REFUSED_SQL = 'SELECT embedded_postgres_refuses_changing_the_role()';

export function isRoleChange(sql: string): boolean {
  const variants = [
    sql,
    sql.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/--[^\n]*/g, ' '),
    sql.replace(/\/\*[\s\S]*\*\//g, ' ').replace(/--[^\n]*/g, ' '),
  ];
  return variants.some((v) => FORBIDDEN.some((re) => re.test(v)));
}

const quoteIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/** Starts the TCP server. The PGlite instance stays the caller's (close it after `stop`). */
export async function startWireServer(o: WireServerOptions): Promise<WireServer> {
  const { db } = o;
  const roles = new Set(o.roles);
  const stats: WireServerStats = { connections: 0, turns: 0, waits: 0, maxWaitMs: 0, refused: 0 };
  let sessionRole: string | undefined;
  let holder: Conn | undefined;
  const waiting: { conn: Conn; grant: () => void }[] = [];
  const conns = new Set<Conn>();
  let nextPid = 1000;

  const exec = (msg: Buffer): Promise<Uint8Array> =>
    db.runExclusive(() => db.execProtocolRaw(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength)));

  async function acquire(conn: Conn): Promise<void> {
    stats.turns++;
    if (!holder) {
      holder = conn;
      return;
    }
    const t0 = performance.now();
    const slowWaitMs = o.slowWaitMs ?? 3_000;
    const timer = o.onSlowWait
      ? setTimeout(
          () => o.onSlowWait?.({ waitedMs: slowWaitMs, holderRole: holder?.role, waiting: waiting.length }),
          slowWaitMs,
        )
      : undefined;
    timer?.unref();
    await new Promise<void>((grant) => waiting.push({ conn, grant }));
    clearTimeout(timer);
    const waited = performance.now() - t0;
    stats.waits++;
    stats.maxWaitMs = Math.max(stats.maxWaitMs, Math.round(waited));
  }

  function release(conn: Conn): void {
    if (holder !== conn) return;
    const next = waiting.shift();
    holder = next?.conn;
    next?.grant();
  }

  async function useRole(role: string): Promise<void> {
    if (sessionRole === role) return;
    const err = firstError(await exec(queryMessage(`SET ROLE ${quoteIdent(role)}`)));
    if (err) throw new Error(`embedded Postgres: SET ROLE ${role} failed: ${err}`);
    sessionRole = role;
  }

  class Conn {
    readonly pid = nextPid++;
    role: string | undefined;
    status: TxStatus = 'I';
    buf: Buffer = Buffer.alloc(0);
    queue: Buffer[] = [];
    pumping = false;
    closed = false;
    constructor(readonly socket: net.Socket) {}

    onData(chunk: Buffer): void {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      try {
        if (!this.role && !this.startup()) return;
        const { messages, rest } = splitMessages(this.buf);
        this.buf = rest;
        this.queue.push(...messages);
      } catch (err) {
        this.fatal('08P01', err instanceof Error ? err.message : String(err));
        return;
      }
      void this.pump();
    }

    /** Handles the untyped startup phase; true once the connection is authenticated. */
    startup(): boolean {
      for (;;) {
        const pkt = readStartupPacket(this.buf);
        if (!pkt) return false;
        this.buf = this.buf.subarray(pkt.size);
        if (pkt.code === SSL_REQUEST || pkt.code === GSSENC_REQUEST) {
          this.socket.write('N');
          continue;
        }
        if (pkt.code === CANCEL_REQUEST) {
          // Nothing to cancel: statements run synchronously inside PGlite.
          this.socket.end();
          return false;
        }
        if (pkt.code !== PROTOCOL_V3) throw new Error(`unsupported protocol ${pkt.code}`);
        const user = parseStartupParams(pkt.body)['user'] ?? '';
        if (!roles.has(user)) {
          this.fatal(
            '28000',
            `role "${user}" is not served by the embedded Postgres (serves: ${[...roles].join(', ')})`,
          );
          return false;
        }
        this.role = user;
        this.socket.write(
          startupReply({ ...o.parameters, session_authorization: user, is_superuser: 'off' }, this.pid),
        );
        return true;
      }
    }

    fatal(code: string, text: string): void {
      this.socket.end(errorResponse('FATAL', code, text));
    }

    async pump(): Promise<void> {
      if (this.pumping) return;
      this.pumping = true;
      try {
        while (this.queue.length > 0 && !this.closed) {
          if (this.queue[0]![0] === 0x58 /* X: Terminate */) {
            this.socket.end();
            break;
          }
          if (holder !== this) await acquire(this);
          if (this.closed) break;
          await useRole(this.role!);
          // One backend call per client round trip: the messages up to and including the Sync
          // (extended protocol) or the Query (simple protocol) — PGlite costs ~0.2 ms per call.
          const batch: Buffer[] = [];
          while (this.queue.length > 0 && this.queue[0]![0] !== 0x58) {
            let msg = this.queue.shift()!;
            const sql = sqlOf(msg);
            if (sql && isRoleChange(sql.sql)) {
              stats.refused++;
              msg = withSql(msg, sql, REFUSED_SQL);
            }
            batch.push(msg);
            if (msg[0] === 0x53 /* S */ || msg[0] === 0x51 /* Q */) break;
          }
          const msg = batch.length === 1 ? batch[0]! : Buffer.concat(batch);
          const out = await exec(msg);
          if (!this.socket.destroyed) this.socket.write(out);
          const status = lastReadyStatus(out);
          if (status) this.status = status;
          if (status === 'I' && !this.queue.some((m) => m[0] !== 0x58)) release(this);
        }
      } catch (err) {
        this.socket.destroy(err instanceof Error ? err : new Error(String(err)));
      } finally {
        this.pumping = false;
      }
      if (this.closed) await this.cleanup();
    }

    /** The client is gone: end whatever it left open, then hand the backend on. */
    async cleanup(): Promise<void> {
      if (holder !== this) {
        const i = waiting.findIndex((w) => w.conn === this);
        if (i >= 0) waiting.splice(i, 1);
        return;
      }
      try {
        const out = await exec(SYNC_MESSAGE); // closes a half-sent extended-protocol sequence
        if ((lastReadyStatus(out) ?? this.status) !== 'I') await exec(queryMessage('ROLLBACK'));
      } finally {
        release(this);
      }
    }

    onClose(): void {
      if (this.closed) return;
      this.closed = true;
      conns.delete(this);
      stats.connections--;
      if (!this.pumping) void this.cleanup();
    }
  }

  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const conn = new Conn(socket);
    conns.add(conn);
    stats.connections++;
    socket.on('data', (chunk: Buffer) => conn.onData(chunk));
    socket.on('error', () => conn.onClose());
    socket.on('close', () => conn.onClose());
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;

  return {
    port: address.port,
    host,
    stats: () => ({ ...stats }),
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of conns) c.socket.destroy();
      await closed;
      // Let the rollback of a transaction left open by a destroyed socket finish.
      for (let i = 0; holder && i < 1_000; i++) await new Promise((r) => setTimeout(r, 5));
    },
  };
}
