import type { Membership } from '@lt/context';
import { withTenant } from '@lt/db';
import { findUser, findUsers, inScope, pageUsers, type UserRow } from '../data/users';
import type { AuthServices } from '../deps';

/** The caller's own user row. */
export const getOwnUser = (s: AuthServices, m: Membership): Promise<UserRow | null> =>
  inScope(s.db, m, (tx) => findUser(tx, m.userId));

/** The users among `ids` the caller may see. */
export const getUsers = (s: AuthServices, m: Membership, ids: string[]): Promise<UserRow[]> =>
  inScope(s.db, m, (tx) => findUsers(tx, ids));

/** A page of tenant `tenantId`'s users, read as tenant `scope` (RLS backs the caller's check). */
export const listTenantUsers = (
  s: AuthServices,
  scope: string,
  tenantId: string,
  first: number,
  after: [string, string] | null,
) => withTenant(s.db, scope, (tx) => pageUsers(tx, tenantId, first, after));
