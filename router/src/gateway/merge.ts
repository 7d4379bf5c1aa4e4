import { CONTEXT_HEADER } from '@lt/context';
import type { SubgraphFetcher, SubgraphResponse } from './httpFetcher';

/**
 * Internal marker the data source sets on a subgraph call that may share an identical in-flight
 * call (a query, inside an operation that is not a mutation). Removed before the call is sent.
 */
export const MERGE_HEADER = 'x-lt-mergeable';

export type MergingFetcher = SubgraphFetcher & {
  /** Calls answered by another in-flight call since start (metrics, tests). */
  merged(): number;
};

/**
 * Merges identical in-flight subgraph queries: same URL, same body and the same signed caller
 * context (`x-router-context`, which covers the membership, token and client address) share one
 * HTTP call; each waiter parses its own copy of the answer. Calls without the marker (mutations,
 * anything in a mutation's plan) always go out on their own. A merged call's subgraph logs carry
 * the request id of the first caller.
 */
export function mergingFetcher(fetcher: SubgraphFetcher): MergingFetcher {
  const inFlight = new Map<string, Promise<SubgraphResponse>>();
  let merged = 0;
  const wrapped = ((url, init) => {
    const headers = init.headers;
    if (!headers || headers[MERGE_HEADER] === undefined) return fetcher(url, init);
    const { [MERGE_HEADER]: _marker, ...rest } = headers;
    const context = rest[CONTEXT_HEADER];
    const send = { ...init, headers: rest };
    if (!context) return fetcher(url, send);
    const key = `${url}\n${context}\n${init.body ?? ''}`;
    const pending = inFlight.get(key);
    if (pending) {
      merged++;
      return pending;
    }
    const call = fetcher(url, send).finally(() => inFlight.delete(key));
    inFlight.set(key, call);
    return call;
  }) as MergingFetcher;
  wrapped.close = () => fetcher.close();
  wrapped.merged = () => merged;
  return wrapped;
}
