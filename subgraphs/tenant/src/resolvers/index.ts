import { notImplemented } from '@lt/errors';
import { DateTimeScalar } from '@lt/server';
import type { TenantSubgraphDeps } from '../createTenantSubgraph';

export function createResolvers(_deps: TenantSubgraphDeps) {
  const todo = (name: string) => () => {
    throw notImplemented(name);
  };
  return {
    DateTime: DateTimeScalar,
    Query: { tenant: todo('tenant'), myTenant: todo('myTenant'), tenants: todo('tenants') },
    Mutation: {
      createTenant: todo('createTenant'),
      updateTenant: todo('updateTenant'),
      suspendTenant: todo('suspendTenant'),
      reactivateTenant: todo('reactivateTenant'),
    },
  };
}
