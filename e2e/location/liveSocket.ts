/**
 * A small graphql-transport-ws client for tests: raw `ws`, so tests see the wire (close codes,
 * error messages) and can stop reading to play a slow consumer. Every wait is bounded.
 */
import WebSocket from 'ws';

type Message = { type: string; id?: string; payload?: unknown };
export interface Closed {
  code: number;
  reason: string;
}

export class LiveSocket {
  private readonly inbox = new Map<string, Message[]>();
  private readonly waiters = new Set<() => void>();
  readonly closed: Promise<Closed>;

  private constructor(private readonly ws: WebSocket) {
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      }),
    );
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Message;
      const key = m.id ?? m.type;
      if (!this.inbox.has(key)) this.inbox.set(key, []);
      this.inbox.get(key)!.push(m);
      this.wake();
    });
  }

  /** Connects to `httpUrl` (the router's /graphql) and sends connection_init; waits for ack or close. */
  static async open(httpUrl: string, authorization?: string): Promise<LiveSocket> {
    const ws = new WebSocket(httpUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const s = new LiveSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    s.send({ type: 'connection_init', payload: authorization ? { authorization } : {} });
    return s;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  send(m: Message): void {
    this.ws.send(JSON.stringify(m));
  }

  /** Resolves when the server acknowledged the connection; rejects with the close if it refused. */
  async acked(timeoutMs = 10_000): Promise<void> {
    const m = await Promise.race([this.take('connection_ack', timeoutMs), this.closed]);
    if ('code' in m) throw new Error(`closed ${m.code} ${m.reason}`);
  }

  subscribe(id: string, query: string, variables: Record<string, unknown> = {}): void {
    this.send({ id, type: 'subscribe', payload: { query, variables } });
  }

  complete(id: string): void {
    this.send({ id, type: 'complete' });
  }

  /** The next message for `id` (or of a type, for id-less messages). */
  async take(key: string, timeoutMs = 10_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const q = this.inbox.get(key);
      const m = q?.shift();
      if (m) return m;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${key}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${key}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, left);
        function done(): void {
          clearTimeout(t);
          resolve();
        }
        this.waiters.add(done);
      }).finally(() => this.waiters.clear());
    }
  }

  /** The next `next` payload of subscription `id`; throws on an `error` message. */
  async next<T = Record<string, unknown>>(id: string, timeoutMs?: number): Promise<{ data: T; errors?: unknown[] }> {
    const m = await this.take(id, timeoutMs);
    if (m.type !== 'next') throw new Error(`expected next for ${id}, got ${m.type}: ${JSON.stringify(m.payload)}`);
    return m.payload as { data: T; errors?: unknown[] };
  }

  /** The `error` message of subscription `id` (its GraphQL errors). */
  async error(id: string, timeoutMs?: number): Promise<{ message: string; extensions?: Record<string, unknown> }[]> {
    const m = await this.take(id, timeoutMs);
    if (m.type !== 'error') throw new Error(`expected error for ${id}, got ${m.type}: ${JSON.stringify(m.payload)}`);
    return m.payload as { message: string; extensions?: Record<string, unknown> }[];
  }

  /** Messages already received for `id`, without waiting. */
  pending(id: string): Message[] {
    return [...(this.inbox.get(id) ?? [])];
  }

  /** Stops reading from the socket: the server's writes back up (a slow consumer). */
  pauseReading(): void {
    this.ws.pause();
  }

  /** Reads again (a slow consumer catching up: it then sees what the server sent, close included). */
  resumeReading(): void {
    this.ws.resume();
  }

  async close(): Promise<Closed> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    const timer = setTimeout(() => this.ws.terminate(), 2_000);
    const c = await this.closed;
    clearTimeout(timer);
    return c;
  }
}
