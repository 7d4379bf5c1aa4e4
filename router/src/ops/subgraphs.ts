import type { ReadinessCheck } from './endpoints';

/** Deadline of a subgraph's health probe, ms: a subgraph slower than this is not ready. */
export const SUBGRAPH_PROBE_TIMEOUT_MS = 1_000;

/** The routing URL of every subgraph in a supergraph SDL (`@join__graph(name, url)`), by name. */
export function supergraphSubgraphUrls(supergraphSdl: string): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const m of supergraphSdl.matchAll(/@join__graph\(name:\s*"([^"]+)",\s*url:\s*"([^"]*)"\)/g)) urls[m[1]!] = m[2]!;
  return urls;
}

/**
 * Readiness probe of one subgraph: its `/healthz` (next to its `/graphql`) answers 2xx within
 * {@link SUBGRAPH_PROBE_TIMEOUT_MS}. A dead or hung subgraph makes the router not ready.
 */
export function subgraphHealthCheck(graphqlUrl: string, timeoutMs = SUBGRAPH_PROBE_TIMEOUT_MS): ReadinessCheck {
  const healthz = new URL('healthz', new URL('.', graphqlUrl)).toString();
  return async () => {
    const res = await fetch(healthz, { signal: AbortSignal.timeout(timeoutMs) }).catch((err: unknown) => {
      throw new Error(`unreachable (${(err as { cause?: { code?: string } })?.cause?.code ?? (err as Error).name})`);
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  };
}

/** Adds `subgraph:<name>` checks for every subgraph (overrides win over the supergraph's URLs). */
export function addSubgraphChecks(
  checks: Record<string, ReadinessCheck>,
  supergraphSdl: string,
  overrides: Record<string, string> = {},
): void {
  const urls = { ...supergraphSubgraphUrls(supergraphSdl), ...overrides };
  for (const [name, url] of Object.entries(urls)) checks[`subgraph:${name}`] = subgraphHealthCheck(url);
}
