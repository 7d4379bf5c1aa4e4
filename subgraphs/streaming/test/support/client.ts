import { randomUUID } from 'node:crypto';
import { signContext, type Membership } from '@lt/context';

export interface Result<T> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** Calls the subgraph as `membership`, with a context signed the way the router signs it. */
export function subgraphClient(url: string, secret: string) {
  return async <T = Record<string, unknown>>(
    membership: Membership,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<Result<T>> => {
    const ctx = signContext(
      { membership, requestId: randomUUID(), tokenId: null, tokenExpiresAt: null, clientAddress: null },
      { secret },
    );
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-router-context': ctx },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(15_000),
    });
    return (await res.json()) as Result<T>;
  };
}

export const codeOf = (r: Result<unknown>) => r.errors?.[0]?.extensions?.['code'];
export const fieldOf = (r: Result<unknown>) => r.errors?.[0]?.extensions?.['field'];

/** A membership for a tenant (no users row needed: the subgraph trusts the signed context). */
export const member = (tenantId: string | null, role: Membership['role']): Membership => ({
  userId: randomUUID(),
  sub: randomUUID(),
  tenantId,
  role,
  tenantStatus: tenantId ? 'ACTIVE' : null,
});
