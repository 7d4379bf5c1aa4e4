import { DateTimeScalar } from '@lt/server';
import type { AuthServices } from '../services';
import { sessionResolvers } from './session';
import { userResolvers } from './users';

export function createResolvers(s: AuthServices) {
  const users = userResolvers(s);
  return {
    DateTime: DateTimeScalar,
    Query: users.Query,
    Mutation: { ...sessionResolvers(s), ...users.Mutation },
    User: users.User,
    Tenant: users.Tenant,
  };
}
