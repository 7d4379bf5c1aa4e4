/**
 * Claims the pool signed but that cannot name a user: refused as UNAUTHENTICATED before the
 * membership lookup (Postgres refuses a NUL in text: 22021, which used to surface as a 500).
 */
import { describe, expect, it } from 'vitest';
import { createCognitoAuthenticator } from './cognitoAuthenticator';
import type { MembershipResolver } from './membership';
import type { AccessClaims, AccessTokenVerifier, AuthFailureReason } from './verifier';

function authenticatorFor(sub: string) {
  const looked: string[] = [];
  const reasons: AuthFailureReason[] = [];
  const verifier: AccessTokenVerifier = {
    verify: async (): Promise<AccessClaims> => ({ sub, tokenId: 'j', exp: 2 ** 31, issuedAt: 1 }),
    hydrate: async () => undefined,
    probe: async () => undefined,
  };
  const memberships = {
    async resolve(s: string) {
      looked.push(s);
      // What Postgres answers for a NUL in a text parameter.
      if (s.includes('\u0000')) throw new Error('invalid byte sequence for encoding "UTF8": 0x00');
      return {
        kind: 'ok',
        membership: { userId: 'u', sub: s, tenantId: 't', role: 'MEMBER', tenantStatus: 'ACTIVE' },
      };
    },
  } as unknown as MembershipResolver;
  const a = createCognitoAuthenticator({ verifier, memberships, onFailure: (r) => reasons.push(r) });
  return { a, looked, reasons };
}

const TOKEN = 'Bearer aaa.bbb.ccc';

describe('verified token with an unusable sub', () => {
  it.each([
    ['nul', 'user\u0000x'],
    ['control', 'user\nx'],
    ['empty', ''],
    ['over-long', 'x'.repeat(129)],
  ])('%s sub → UNAUTHENTICATED (wrong_claims), no membership lookup', async (_name, sub) => {
    const { a, looked, reasons } = authenticatorFor(sub);
    await expect(a.authenticate(TOKEN)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    expect(reasons).toEqual(['wrong_claims']);
    expect(looked).toEqual([]);
  });

  it('a Cognito UUID sub passes', async () => {
    const { a, looked } = authenticatorFor('0b1c2d3e-4f50-4a1b-8c9d-0e1f2a3b4c5d');
    await expect(a.authenticate(TOKEN)).resolves.toMatchObject({ membership: { role: 'MEMBER' } });
    expect(looked).toHaveLength(1);
  });
});
