import { isUuid } from '@lt/context';
import type { Db } from './client';
import type { Prisma } from '../generated/client';

/** A transaction client: what every data function takes, so it works inside one unit of work. */
export type Tx = Prisma.TransactionClient;

export interface UnitOfWorkOptions {
  /** Max time the whole transaction may take, ms. Default 10_000. */
  timeoutMs?: number;
  /** Max wait for a pooled connection, ms. Default 5_000. */
  maxWaitMs?: number;
  isolationLevel?: Prisma.TransactionIsolationLevel;
}

function txOptions(o: UnitOfWorkOptions): {
  timeout: number;
  maxWait: number;
  isolationLevel?: Prisma.TransactionIsolationLevel;
} {
  return {
    timeout: o.timeoutMs ?? 10_000,
    maxWait: o.maxWaitMs ?? 5_000,
    ...(o.isolationLevel ? { isolationLevel: o.isolationLevel } : {}),
  };
}

/**
 * Runs `work` in one transaction with `app.tenant_id` set (transaction-local, so it never leaks
 * into the pool). Row-level security then limits every statement to that tenant's rows.
 * Group a request's queries in one call: each transaction costs extra round trips (BEGIN, the
 * `set_config`, COMMIT).
 */
export async function withTenant<T>(
  db: Db,
  tenantId: string,
  work: (tx: Tx) => Promise<T>,
  options: UnitOfWorkOptions = {},
): Promise<T> {
  // No default tenant, ever: a missing or malformed id is a programming error, not "all tenants".
  if (!isUuid(tenantId)) throw new TypeError('withTenant: tenantId must be a UUID');
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT set_config('app.tenant_id', ${tenantId}, true)`;
    return work(tx);
  }, txOptions(options));
}

/**
 * The platform-admin path: `app.platform = on` for one transaction. RLS honours it only on the
 * `tenants` table and on platform-admin user rows (tenant_id IS NULL); every other table still
 * needs a tenant. Optionally also sets a tenant (a platform admin acting inside one tenant).
 */
export async function withPlatform<T>(
  db: Db,
  work: (tx: Tx) => Promise<T>,
  options: UnitOfWorkOptions & { tenantId?: string } = {},
): Promise<T> {
  if (options.tenantId !== undefined && !isUuid(options.tenantId)) {
    throw new TypeError('withPlatform: tenantId must be a UUID');
  }
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT set_config('app.platform', 'on', true)`;
    if (options.tenantId) await tx.$executeRaw`SELECT set_config('app.tenant_id', ${options.tenantId}, true)`;
    return work(tx);
  }, txOptions(options));
}

/**
 * A transaction with no tenant: RLS shows no tenant rows at all. For the SECURITY DEFINER
 * functions (membership by Cognito sub, invitation by code hash, the outbox relay).
 */
export async function withSystem<T>(db: Db, work: (tx: Tx) => Promise<T>, options: UnitOfWorkOptions = {}): Promise<T> {
  return db.$transaction(async (tx) => work(tx), txOptions(options));
}
