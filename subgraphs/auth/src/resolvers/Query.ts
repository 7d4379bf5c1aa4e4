import { requireMembership, type SubgraphContext } from '@lt/server';
import type { AuthServices } from '../deps';
import { getOwnUser } from '../useCases/readUsers';

export function createQueryResolvers(s: AuthServices) {
  return {
    me(_: unknown, __: unknown, ctx: SubgraphContext) {
      return getOwnUser(s, requireMembership(ctx));
    },
  };
}
