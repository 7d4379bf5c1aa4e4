import { describe, expect, it } from 'vitest';
import { CloseReason } from './closeCodes';
import type { Subscriber } from './fanout';
import { identityCloseReason } from './identityCloses';

const T1 = '11111111-1111-4111-8111-111111111111';
const T2 = '22222222-2222-4222-8222-222222222222';
const U1 = '33333333-3333-4333-8333-333333333333';
const U2 = '44444444-4444-4444-8444-444444444444';

const caller: Subscriber['caller'] = {
  membership: { userId: U1, sub: 'sub-1', tenantId: T1, role: 'MEMBER', tenantStatus: 'ACTIVE' },
  requestId: 'r',
  tokenId: 'jti-1',
  tokenExpiresAt: 0,
  clientAddress: null,
};

describe('identityCloseReason', () => {
  it('closes on events that concern the socket, with the reason that says which', () => {
    expect(identityCloseReason({ type: 'tenant.status', tenantId: T1, status: 'SUSPENDED' }, caller)).toBe(
      CloseReason.TENANT_SUSPENDED,
    );
    expect(identityCloseReason({ type: 'user.changed', userId: U1, sub: 'x', tenantId: T1, role: null }, caller)).toBe(
      CloseReason.USER_REMOVED,
    );
    expect(
      identityCloseReason(
        { type: 'user.changed', userId: U2, sub: 'sub-1', tenantId: T1, role: 'TENANT_ADMIN' },
        caller,
      ),
    ).toBe(CloseReason.MEMBERSHIP_CHANGED);
    expect(
      identityCloseReason({ type: 'user.changed', userId: U1, sub: 'sub-1', tenantId: T2, role: 'MEMBER' }, caller),
    ).toBe(CloseReason.MEMBERSHIP_CHANGED);
    expect(identityCloseReason({ type: 'token.revoked', tokenId: 'jti-1', sub: 'sub-1', expiresAt: 1 }, caller)).toBe(
      CloseReason.TOKEN_REVOKED,
    );
    expect(identityCloseReason({ type: 'user.signed_out', sub: 'sub-1', before: 1 }, caller)).toBe(
      CloseReason.TOKEN_REVOKED,
    );
  });

  it('leaves other tenants, other users, other tokens and unchanged memberships alone', () => {
    expect(identityCloseReason({ type: 'tenant.status', tenantId: T2, status: 'SUSPENDED' }, caller)).toBeNull();
    expect(identityCloseReason({ type: 'tenant.status', tenantId: T1, status: 'ACTIVE' }, caller)).toBeNull();
    expect(
      identityCloseReason({ type: 'user.changed', userId: U2, sub: 'sub-2', tenantId: T1, role: null }, caller),
    ).toBeNull();
    expect(
      identityCloseReason({ type: 'user.changed', userId: U1, sub: 'sub-1', tenantId: T1, role: 'MEMBER' }, caller),
    ).toBeNull();
    expect(
      identityCloseReason({ type: 'token.revoked', tokenId: 'jti-2', sub: 'sub-1', expiresAt: 1 }, caller),
    ).toBeNull();
    expect(
      identityCloseReason(
        { type: 'token.revoked', tokenId: 'jti-1', sub: 'sub-1', expiresAt: 1 },
        { ...caller, tokenId: null },
      ),
    ).toBeNull();
    expect(identityCloseReason({ type: 'user.signed_out', sub: 'sub-2', before: 1 }, caller)).toBeNull();
  });
});
