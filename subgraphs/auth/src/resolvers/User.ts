import { byId, isUuid, loadBatched, type SubgraphContext } from '@lt/server';
import type { UserRow } from '../data/users';
import type { AuthServices } from '../deps';
import { getUsers } from '../useCases/readUsers';

export function createUserResolvers(s: AuthServices) {
  return {
    /** One query per request for all the User references it carries (loadBatched). */
    async __resolveReference(ref: { id: string }, ctx: SubgraphContext) {
      const m = ctx.caller.membership;
      if (!m || !isUuid(ref.id)) return null;
      return loadBatched(ctx, 'User', ref.id, (ids) => getUsers(s, m, ids).then(byId));
    },
    tenant: (u: UserRow) => (u.tenantId ? { __typename: 'Tenant', id: u.tenantId } : null),
  };
}
