/** Test fixtures: users in fresh tenants, a started subgraph and a signed-context GraphQL client for it. */
import { randomUUID } from 'node:crypto';
import type { Membership, Role } from '@lt/context';
import { withTenant, type Db } from '@lt/db';
import { createLogger } from '@lt/logger';
import { createTestTenant, subgraphClient, uniqueName, type Cleanup } from '@lt/testing';
import { createLocationSubgraph, type LocationSubgraphDeps } from '../src/createLocationSubgraph';

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

/** Two fresh tenants: t1 with an admin and the members alice and bob, t2 with its admin `other`. */
export interface TestMembers {
  t1: string;
  t2: string;
  admin: Membership;
  alice: Membership;
  bob: Membership;
  other: Membership;
}

export async function createTestMembers(db: Db, prefix: string): Promise<TestMembers> {
  const t1 = (await createTestTenant(db, prefix)).id;
  const t2 = (await createTestTenant(db, prefix)).id;
  const admin = await createUser(db, t1, 'TENANT_ADMIN');
  const alice = await createUser(db, t1, 'MEMBER');
  const bob = await createUser(db, t1, 'MEMBER');
  const other = await createUser(db, t2, 'TENANT_ADMIN');
  return { t1, t2, admin, alice, bob, other };
}

/**
 * Starts a location subgraph on a free port (silent log unless given), stopped by `cleanup`, and
 * returns a signed-context client for it.
 */
export async function startLocationServer(
  cleanup: Cleanup,
  deps: Omit<LocationSubgraphDeps, 'log'> & Partial<Pick<LocationSubgraphDeps, 'log'>>,
): Promise<ReturnType<typeof subgraphClient>> {
  const server = createLocationSubgraph({ log: createLogger({ level: 'silent' }), ...deps });
  const port = await server.start(0);
  cleanup.add(() => server.stop());
  return subgraphClient(`http://127.0.0.1:${port}/graphql`, deps.contextSecret);
}
