/** Test fixtures: users in fresh tenants, and a signed-context GraphQL client for the subgraph. */
import { randomUUID } from 'node:crypto';
import type { Membership, Role } from '@lt/context';
import { withTenant, type Db } from '@lt/db';
import { uniqueName } from '@lt/testing';

export async function createUser(db: Db, tenantId: string, role: Exclude<Role, 'PLATFORM_ADMIN'>): Promise<Membership> {
  const sub = randomUUID();
  const user = await withTenant(db, tenantId, (tx) =>
    tx.user.create({ data: { cognitoSub: sub, email: `${uniqueName('u')}@example.test`, tenantId, role } }),
  );
  return { userId: user.id, sub, tenantId, role, tenantStatus: 'ACTIVE' };
}

export { subgraphClient, type SubgraphResult as Result } from '@lt/testing';
import type { SubgraphResult as Result } from '@lt/testing';

export const firstError = (r: Result<unknown>) => r.errors?.[0]?.extensions ?? {};
