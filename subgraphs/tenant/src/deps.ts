import type { Db } from '@lt/db';
import type { IdentityInvalidation } from '@lt/identity';
import type { Logger } from '@lt/logger';
import type { SubgraphContext } from '@lt/server';
import type { TenantReferenceLoader } from './useCases/tenantReferences';

export interface TenantSubgraphDeps {
  db: Db;
  log: Logger;
  /** Shared with the router (ROUTER_CONTEXT_SECRET). */
  contextSecret: string;
  /**
   * Where suspensions and reactivations are announced after commit, so every router replica
   * refuses (or again accepts) the tenant's tokens within seconds. In-memory in one process, Redis
   * across processes.
   */
  identity: IdentityInvalidation;
  /** POINT_RETENTION_MAX_DAYS: the longest `retentionDays` a tenant may set. Default 365. */
  maxRetentionDays?: number;
}

/** What the tenant subgraph adds to each request's context. */
export interface TenantExtraContext {
  tenantRefs: TenantReferenceLoader;
}

/** A resolver's context in the tenant subgraph. */
export type TenantContext = SubgraphContext & TenantExtraContext;
