export const Role = {
  PLATFORM_ADMIN: 'PLATFORM_ADMIN',
  TENANT_ADMIN: 'TENANT_ADMIN',
  MEMBER: 'MEMBER',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

export function isRole(value: unknown): value is Role {
  return value === 'PLATFORM_ADMIN' || value === 'TENANT_ADMIN' || value === 'MEMBER';
}

export const TenantStatus = { ACTIVE: 'ACTIVE', SUSPENDED: 'SUSPENDED' } as const;
export type TenantStatus = (typeof TenantStatus)[keyof typeof TenantStatus];

/** What the router resolved for a verified token. `tenantId` is null only for PLATFORM_ADMIN. */
export interface Membership {
  userId: string;
  /** Cognito `sub`. */
  sub: string;
  tenantId: string | null;
  role: Role;
  tenantStatus: TenantStatus | null;
}

/**
 * What a subgraph resolver sees: the verified membership (or null for public operations such as
 * `login`), the request id, and the token's id + expiry (so `logout` can revoke it).
 */
export interface Caller {
  membership: Membership | null;
  requestId: string;
  /** `jti`/`origin_jti` of the access token, when authenticated. */
  tokenId: string | null;
  /** Seconds since epoch when the access token expires, when authenticated. */
  tokenExpiresAt: number | null;
  /** Client address as seen by the router (for rate limits); never a client-supplied header. */
  clientAddress: string | null;
}
