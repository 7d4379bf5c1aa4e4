import type { Role, TenantStatus } from '@lt/context';

export type IdentityEvent =
  | { type: 'tenant.status'; tenantId: string; status: TenantStatus }
  | {
      type: 'user.changed';
      userId: string;
      sub: string;
      tenantId: string | null;
      role: Role | null; /* null = removed */
    }
  | { type: 'token.revoked'; tokenId: string; sub: string; expiresAt: number }
  /**
   * Sign-out everywhere: every token of this user issued at or before `before` (epoch seconds) is
   * refused, whichever device holds it. Tokens issued later (a new login) are not affected.
   */
  | { type: 'user.signed_out'; sub: string; before: number };

/** What subgraphs call after committing a change that affects who may do what. */
export interface IdentityInvalidation {
  publish(event: IdentityEvent): Promise<void>;
}

/** What routers use to hear about changes. Returns an unsubscribe function. */
export interface IdentityWatch {
  subscribe(listener: (event: IdentityEvent) => void): () => void;
}
