import type { IdentityEvent } from '@lt/identity';
import { CloseReason } from './closeCodes';
import type { Subscriber } from './fanout';

/**
 * Why an identity event ends a socket opened by `caller` (closed with 4401 and this reason), or
 * null when it does not concern it: logout, token revocation, removal from the tenant, a role or
 * tenant change, suspension of the tenant.
 */
export function identityCloseReason(e: IdentityEvent, caller: Subscriber['caller']): string | null {
  const m = caller.membership;
  switch (e.type) {
    case 'tenant.status':
      return e.status === 'SUSPENDED' && m.tenantId === e.tenantId ? CloseReason.TENANT_SUSPENDED : null;
    case 'user.changed':
      if (m.userId !== e.userId && m.sub !== e.sub) return null;
      if (e.role === null) return CloseReason.USER_REMOVED;
      return e.role !== m.role || e.tenantId !== m.tenantId ? CloseReason.MEMBERSHIP_CHANGED : null;
    case 'token.revoked':
      return caller.tokenId !== null && caller.tokenId === e.tokenId ? CloseReason.TOKEN_REVOKED : null;
    case 'user.signed_out':
      // Every socket open now was authenticated with a token issued before the sign-out.
      return m.sub === e.sub ? CloseReason.TOKEN_REVOKED : null;
    default: {
      const never: never = e;
      void never;
      return null;
    }
  }
}
