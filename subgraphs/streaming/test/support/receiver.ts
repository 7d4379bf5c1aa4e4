import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { listenOnFreePort } from '@lt/testing';

export interface Received {
  id: string;
  body: { id: string; type: string; tenantId: string; data: Record<string, unknown> };
  /** The request body exactly as received. */
  raw: string;
  headers: IncomingHttpHeaders;
  /** The `standardwebhooks` package (an independent implementation) accepted the signature. */
  verified: boolean;
  /** What this receiver answered. */
  status: number;
  at: number;
}

/**
 * Decides the answer to one request: a status code, 'hang' (never answers), or a status code sent
 * after a delay.
 */
export type Behaviour = (r: {
  id: string;
  nth: number;
  body: Received['body'];
}) => number | 'hang' | { status: number; afterMs: number };

/**
 * A local webhook receiver on 127.0.0.1 port 0 that verifies every request with `standardwebhooks`
 * against the secrets it was given (current and, during rotation, previous).
 */
export async function startReceiver(behaviour: Behaviour = () => 200) {
  let secrets: string[] = [];
  const all: Received[] = [];
  const attemptsById = new Map<string, number>();
  const listeners = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = req.headers as Record<string, string>;
      const verified = secrets.some((s) => {
        try {
          new Webhook(s).verify(raw, headers);
          return true;
        } catch {
          return false;
        }
      });
      const id = headers['webhook-id'] ?? '';
      const nth = (attemptsById.get(id) ?? 0) + 1;
      attemptsById.set(id, nth);
      const body = JSON.parse(raw) as Received['body'];
      const answer = verified ? behaviour({ id, nth, body }) : 401;
      const respond = (status: number): void => {
        all.push({ id, body, raw, headers: req.headers, verified, status, at: Date.now() });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? 'x'.repeat(5_000) : 'ok');
        for (const l of listeners) l();
      };
      if (answer === 'hang') {
        all.push({ id, body, raw, headers: req.headers, verified, status: 0, at: Date.now() });
        for (const l of listeners) l();
      } else if (typeof answer === 'number') respond(answer);
      else setTimeout(() => respond(answer.status), answer.afterMs);
    });
  });
  server.keepAliveTimeout = 1_000;
  const port = await listenOnFreePort(server);
  const accepted = () => all.filter((r) => r.status >= 200 && r.status < 300);
  return {
    url: `http://127.0.0.1:${port}/hook`,
    all,
    accepted,
    setSecrets(s: string[]) {
      secrets = s;
    },
    /** Resolves when `check` holds after some request; rejects after `timeoutMs`. */
    until(check: () => boolean, timeoutMs = 15_000, what = 'receiver condition'): Promise<void> {
      if (check()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          listeners.delete(l);
          reject(new Error(`timed out waiting for ${what} (${all.length} requests so far)`));
        }, timeoutMs);
        const l = (): void => {
          if (check()) {
            clearTimeout(t);
            listeners.delete(l);
            resolve();
          }
        };
        listeners.add(l);
      });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
