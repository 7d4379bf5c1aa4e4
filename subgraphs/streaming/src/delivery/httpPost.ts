import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolveAllowed, UrlRefusedError, type UrlPolicy } from './urlPolicy';

/** What one HTTP attempt came to. */
export type AttemptOutcome =
  | { kind: 'delivered'; status: number; body: string }
  | { kind: 'gone'; status: 410; body: string }
  | { kind: 'failed'; status: number | null; error: string; body: string | null }
  | { kind: 'refused'; error: string };

export interface PostOptions {
  /** Whole-attempt deadline (DNS, connect, response, body), ms. */
  timeoutMs: number;
  policy: UrlPolicy;
  /** Response bytes kept (the rest is dropped, never buffered). Default 1_024. */
  maxBodyBytes?: number;
  agents?: { http: http.Agent; https: https.Agent };
}

/** Keep-alive agents shared by one dispatcher (closed on stop). */
export function createAgents(): { http: http.Agent; https: https.Agent } {
  return {
    http: new http.Agent({ keepAlive: true, maxSockets: 128 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 128 }),
  };
}

/**
 * POSTs a webhook. The host is resolved and every address checked against the policy first; the
 * connection is then pinned to the checked address (no DNS-rebinding window). Redirects are not
 * followed (a 3xx is a failure). Never throws: every result is an {@link AttemptOutcome}.
 */
export async function postWebhook(
  rawUrl: string,
  headers: Record<string, string>,
  body: string,
  o: PostOptions,
): Promise<AttemptOutcome> {
  const deadline = AbortSignal.timeout(o.timeoutMs);
  let url: URL;
  let pinned: { address: string; family: number };
  try {
    url = new URL(rawUrl);
    if (url.protocol === 'http:' && !o.policy.allowLoopback) throw new UrlRefusedError('url must use https');
    pinned = (await resolveAllowed(url.hostname, { ...o.policy, dnsTimeoutMs: o.timeoutMs }))[0]!;
  } catch (err) {
    if (err instanceof UrlRefusedError) return { kind: 'refused', error: err.reason };
    return { kind: 'failed', status: null, error: 'dns: host did not resolve', body: null };
  }
  const lookup: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) (cb as (e: null, a: (typeof pinned)[]) => void)(null, [pinned]);
    else cb(null, pinned.address, pinned.family);
  };
  const max = o.maxBodyBytes ?? 1_024;
  const isHttps = url.protocol === 'https:';
  const mod = isHttps ? https : http;
  return new Promise<AttemptOutcome>((resolve) => {
    let settled = false;
    const done = (outcome: AttemptOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const req = mod.request(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'location-supergraph-webhooks/1',
        },
        lookup,
        signal: deadline,
        agent: o.agents ? (isHttps ? o.agents.https : o.agents.http) : undefined,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (c: Buffer) => {
          if (kept < max) {
            chunks.push(c.subarray(0, max - kept));
            kept += Math.min(c.length, max - kept);
          }
        });
        res.on('error', () =>
          done({ kind: 'failed', status: res.statusCode ?? null, error: 'response aborted', body: null }),
        );
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) done({ kind: 'delivered', status, body: text });
          else if (status === 410) done({ kind: 'gone', status: 410, body: text });
          else done({ kind: 'failed', status, error: `HTTP ${status}`, body: text });
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      const error = deadline.aborted ? `timeout after ${o.timeoutMs} ms` : `network: ${err.code ?? err.message}`;
      done({ kind: 'failed', status: null, error, body: null });
    });
    req.end(body);
  });
}
