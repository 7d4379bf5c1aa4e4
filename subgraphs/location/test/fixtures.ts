/** Test fixtures: users in fresh tenants, and a signed-context GraphQL client for the subgraph. */
import { randomUUID } from 'node:crypto';
import { signContext, type Membership, type Role } from '@lt/context';
import { withTenant, type Db } from '@lt/db';
import { uniqueName } from '@lt/testing';

export async function createUser(db: Db, tenantId: string, role: Exclude<Role, 'PLATFORM_ADMIN'>): Promise<Membership> {
  const sub = randomUUID();
  const user = await withTenant(db, tenantId, (tx) =>
    tx.user.create({ data: { cognitoSub: sub, email: `${uniqueName('u')}@example.test`, tenantId, role } }),
  );
  return { userId: user.id, sub, tenantId, role, tenantStatus: 'ACTIVE' };
}

export interface Result<T> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** Calls a subgraph as `membership`, with a context signed like the router does. */
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

export const firstError = (r: Result<unknown>) => r.errors?.[0]?.extensions ?? {};
