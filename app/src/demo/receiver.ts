import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One webhook the demo receiver accepted (signature verified). */
export interface ReceivedWebhook {
  id: string;
  type: string;
  tenantId: string;
  receivedAt: string;
  data: unknown;
}

export interface DemoReceiver {
  url: string;
  /** Sets the secrets (`whsec_…`) signatures are checked against. */
  setSecrets(secrets: string[]): void;
  received(): ReceivedWebhook[];
  stats(): { accepted: number; rejected: number };
  stop(): Promise<void>;
}

const MAX_BODY = 1_000_000;
const MAX_KEPT = 200;
const TOLERANCE_SEC = 300;

/**
 * Checks a Standard Webhooks signature: `v1,<base64 HMAC-SHA256(secret, "id.timestamp.body")>`,
 * several space-separated signatures allowed (secret rotation), timestamp within 5 minutes.
 */
export function verifyStandardWebhook(
  secrets: string[],
  headers: { id?: string; timestamp?: string; signature?: string },
  body: string,
  nowSec = Math.floor(Date.now() / 1000),
): boolean {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowSec - Number(timestamp)) > TOLERANCE_SEC) return false;
  const given = signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  for (const secret of secrets) {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
    if (given.some((g) => g.length === expected.length && timingSafeEqual(g, expected))) return true;
  }
  return false;
}

/**
 * The built-in local webhook receiver of the demo: `POST /webhooks` verifies the signature and
 * keeps the last events in memory; `GET /webhooks/events` lists them (newest last).
 */
export async function startDemoReceiver(port = 0, host = '127.0.0.1'): Promise<DemoReceiver> {
  let secrets: string[] = [];
  const events: ReceivedWebhook[] = [];
  let accepted = 0;
  let rejected = 0;
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/webhooks/events') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ accepted, rejected, events }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/webhooks') {
      res.statusCode = 404;
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const ok = verifyStandardWebhook(
        secrets,
        {
          id: req.headers['webhook-id'] as string | undefined,
          timestamp: req.headers['webhook-timestamp'] as string | undefined,
          signature: req.headers['webhook-signature'] as string | undefined,
        },
        body,
      );
      if (!ok) {
        rejected += 1;
        res.statusCode = 401;
        res.end('bad signature');
        return;
      }
      accepted += 1;
      try {
        const e = JSON.parse(body) as { id: string; type: string; tenantId: string; data: unknown };
        events.push({
          id: e.id,
          type: e.type,
          tenantId: e.tenantId,
          data: e.data,
          receivedAt: new Date().toISOString(),
        });
        if (events.length > MAX_KEPT) events.shift();
      } catch {
        // a signed but non-JSON body is still acknowledged
      }
      res.statusCode = 204;
      res.end();
    });
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${bound}/webhooks`,
    setSecrets: (s) => {
      secrets = s;
    },
    received: () => [...events],
    stats: () => ({ accepted, rejected }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
