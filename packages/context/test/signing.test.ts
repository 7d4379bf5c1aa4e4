import { describe, expect, it } from 'vitest';
import { signContext, verifyContext, type Caller } from '../src/index';

const secret = 'unit-test-secret-unit-test-secret-0123';
const caller: Caller = {
  membership: {
    userId: 'u1',
    sub: 's1',
    tenantId: '7d0b5a52-2a43-4a5e-9f0c-1a2b3c4d5e6f',
    role: 'MEMBER',
    tenantStatus: 'ACTIVE',
  },
  requestId: 'req-1',
  tokenId: 'jti-1',
  tokenExpiresAt: 2_000_000_000,
  clientAddress: '127.0.0.1',
};

describe('router-signed context', () => {
  it('round-trips a caller, the request id beside the signature', () => {
    expect(verifyContext(signContext(caller, { secret }), { secret, requestId: 'req-1' })).toEqual(caller);
  });

  it('signs who is calling, not the request: one signature serves every request id', () => {
    const now = () => 1_000;
    const a = signContext(caller, { secret, now });
    expect(signContext({ ...caller, requestId: 'req-2' }, { secret, now })).toBe(a);
    expect(JSON.parse(Buffer.from(a.split('.')[1]!, 'base64url').toString())).not.toHaveProperty('requestId');
    expect(verifyContext(a, { secret, now, requestId: 'req-2' }).requestId).toBe('req-2');
    // A missing or odd request id (log injection, huge) is replaced by a fresh one.
    for (const requestId of [undefined, null, '', 'a\nb', 'x'.repeat(129)])
      expect(verifyContext(a, { secret, now, requestId }).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a missing, malformed, re-signed or tampered context', () => {
    const token = signContext(caller, { secret });
    expect(() => verifyContext(undefined, { secret })).toThrow(/missing/);
    expect(() => verifyContext('a.b', { secret })).toThrow(/malformed/);
    expect(() => verifyContext(token, { secret: `${secret}x` })).toThrow(/bad_signature/);
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as { membership: { role: string } };
    claims.membership.role = 'PLATFORM_ADMIN';
    const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    expect(() => verifyContext(tampered, { secret })).toThrow(/bad_signature/);
    const noneAlg = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
    expect(() => verifyContext(noneAlg, { secret })).toThrow(/malformed/);
  });

  it('expires after its short lifetime (with clock skew)', () => {
    const token = signContext(caller, { secret, ttlSeconds: 30, now: () => 1_000 });
    expect(verifyContext(token, { secret, now: () => 1_034 }).membership).toEqual(caller.membership);
    expect(() => verifyContext(token, { secret, now: () => 1_036 })).toThrow(/expired/);
  });

  it('refuses a non-platform membership without a tenant', () => {
    const bad = { ...caller, membership: { ...caller.membership!, tenantId: null } };
    expect(() => verifyContext(signContext(bad, { secret }), { secret })).toThrow(/invalid_claims/);
  });
});
