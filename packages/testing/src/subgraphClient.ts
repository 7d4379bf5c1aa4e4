import { randomUUID } from 'node:crypto';
import { CONTEXT_HEADER, signContext, type Membership } from '@lt/context';

export interface SubgraphResult<T> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/**
 * Calls a subgraph directly as `membership`, with a context signed the way the router signs it
 * (subgraph integration tests: resolvers, validation and isolation without the router).
 */
export function subgraphClient(url: string, secret: string) {
  return async <T = Record<string, unknown>>(
    membership: Membership,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<SubgraphResult<T>> => {
    const ctx = signContext(
      { membership, requestId: randomUUID(), tokenId: null, tokenExpiresAt: null, clientAddress: null },
      { secret },
    );
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CONTEXT_HEADER]: ctx },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(15_000),
    });
    return (await res.json()) as SubgraphResult<T>;
  };
}
