import { isTransientDatabaseError } from '@lt/db';
import { isRedisUnavailableError } from '@lt/pubsub';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

/**
 * A subgraph that cannot be reached or did not answer in time (the subgraph fetcher's deadline,
 * connection refused or reset, `socket hang up`), or that answered 502/503/504: a dependency being
 * down, not a bug.
 */
export function isSubgraphUnavailableError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    originalError?: unknown;
    extensions?: { response?: { status?: unknown } };
  };
  if (e.name === 'TimeoutError') return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && /^socket hang up$/.test(e.message)) return true;
  const status = e.extensions?.response?.status;
  if (status === 502 || status === 503 || status === 504) return true;
  return isSubgraphUnavailableError(e.cause, depth + 1) || isSubgraphUnavailableError(e.originalError, depth + 1);
}

/**
 * The router's one classification of dependency failures that answer SERVICE_UNAVAILABLE ("retry
 * shortly") instead of INTERNAL_SERVER_ERROR: Postgres unavailable or overloaded (`@lt/db`),
 * Redis unreachable or too slow, a subgraph down or past its deadline.
 */
export function isTransientDependencyError(err: unknown): boolean {
  return isTransientDatabaseError(err) || isRedisUnavailableError(err) || isSubgraphUnavailableError(err);
}
