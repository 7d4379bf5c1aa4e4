import type { Express } from 'express';
import { probe } from '@lt/server';
import type { RouterMetrics } from './metrics';

/** A named readiness probe; rejects (or times out) when the dependency is not usable. */
export type ReadinessCheck = () => Promise<void>;

export interface OpsOptions {
  metrics: RouterMetrics;
  /** e.g. { redis, postgres, cognito }. The supergraph is loaded once these routes exist. */
  checks: Record<string, ReadinessCheck>;
  /** Deadline of each check, ms. Default 2_000. */
  checkTimeoutMs?: number;
}

/**
 * `/healthz` (the process answers), `/readyz` (supergraph loaded + every dependency check passes;
 * 503 naming the failing ones otherwise), `/metrics` (Prometheus text: the router's metrics and prom-client's process metrics).
 */
export function mountOps(app: Express, o: OpsOptions): void {
  const timeoutMs = o.checkTimeoutMs ?? 2_000;
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const names = Object.keys(o.checks);
    const results = await Promise.all(names.map((n) => probe(o.checks[n]!, timeoutMs)));
    const checks: Record<string, string> = { supergraph: 'ok' };
    names.forEach((n, i) => (checks[n] = results[i]!));
    const ready = results.every((r) => r === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    const text = await o.metrics.render();
    res.type(o.metrics.contentType).send(text);
  });
}
