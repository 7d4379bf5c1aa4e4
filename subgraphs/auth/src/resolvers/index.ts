import { notImplemented } from '@lt/errors';
import { DateTimeScalar } from '@lt/server';
import type { AuthSubgraphDeps } from '../createAuthSubgraph';

export function createResolvers(_deps: AuthSubgraphDeps) {
  const todo = (name: string) => () => {
    throw notImplemented(name);
  };
  return {
    DateTime: DateTimeScalar,
    Query: { me: todo('me') },
    Mutation: {
      login: todo('login'),
      refreshToken: todo('refreshToken'),
      register: todo('register'),
      logout: todo('logout'),
      inviteUser: todo('inviteUser'),
      changeUserRole: todo('changeUserRole'),
      removeUser: todo('removeUser'),
    },
  };
}
