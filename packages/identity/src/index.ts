/**
 * Identity changes that must reach every router replica within seconds (DESIGN.md §2): cached
 * memberships dropped, HTTP requests refused, open WebSockets closed. Subgraphs announce changes
 * through {@link IdentityInvalidation}; routers listen with {@link IdentityWatch}.
 * Implementations: in-memory (one process) and Redis (pub/sub + keys), same contract tests.
 */
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
  | { type: 'token.revoked'; tokenId: string; sub: string; expiresAt: number };

/** What subgraphs call after committing a change that affects who may do what. */
export interface IdentityInvalidation {
  publish(event: IdentityEvent): Promise<void>;
}

/** What routers use to hear about changes. Returns an unsubscribe function. */
export interface IdentityWatch {
  subscribe(listener: (event: IdentityEvent) => void): () => void;
}

/** One-process implementation (embedded mode, unit tests). */
export function createMemoryIdentityBus(): IdentityInvalidation & IdentityWatch {
  const listeners = new Set<(e: IdentityEvent) => void>();
  return {
    async publish(event) {
      for (const l of listeners) l(event);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
