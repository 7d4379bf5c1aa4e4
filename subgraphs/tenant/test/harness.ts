/**
 * Starts the tenant subgraph alone on port 0 and calls it the way the router does: with a caller
 * context signed by `signContext`. Tests resolvers, validation and data without a token issuer.
 */
import { randomUUID } from 'node:crypto';
import { signContext, type Membership, type Role } from '@lt/context';
import { createDb, withTenant, type Db } from '@lt/db';
import { createMemoryIdentityBus, type IdentityEvent } from '@lt/identity';
import { createLogger } from '@lt/logger';
import { testEnv } from '@lt/testing';
import { createTenantSubgraph } from '../src/createTenantSubgraph';

export interface GqlResult<T> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export type Call = <T = Record<string, unknown>>(
  query: string,
  variables?: Record<string, unknown>,
) => Promise<GqlResult<T>>;

export interface Harness {
  db: Db;
  /** Every identity event the subgraph published, in order. */
  published: IdentityEvent[];
  /** A caller with `role` in `tenantId` (null for PLATFORM_ADMIN). */
  as(role: Role, tenantId: string | null, tenantStatus?: Membership['tenantStatus']): Call;
  /** The `tenant-events` outbox rows of a tenant, oldest first. */
  tenantEvents(tenantId: string): Promise<{ type: string; key: string; payload: unknown }[]>;
  stop(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const env = testEnv();
  const db = createDb({ url: env.databaseUrl, max: 4 });
  const bus = createMemoryIdentityBus();
  const published: IdentityEvent[] = [];
  bus.subscribe((e) => published.push(e));
  const server = createTenantSubgraph({
    db,
    log: createLogger({ level: 'silent' }),
    contextSecret: env.contextSecret,
    identity: bus,
  });
  const port = await server.start(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}/graphql`;

  return {
    db,
    published,
    as(role, tenantId, tenantStatus = tenantId ? 'ACTIVE' : null) {
      const membership: Membership = { userId: randomUUID(), sub: randomUUID(), tenantId, role, tenantStatus };
      return async (query, variables = {}) => {
        const context = signContext(
          { membership, requestId: randomUUID(), tokenId: null, tokenExpiresAt: null, clientAddress: '127.0.0.1' },
          { secret: env.contextSecret },
        );
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-router-context': context },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(10_000),
        });
        return { status: res.status, ...((await res.json()) as object) };
      };
    },
    tenantEvents(tenantId) {
      return withTenant(db, tenantId, (tx) =>
        tx.outbox.findMany({
          where: { topic: 'tenant-events' },
          orderBy: { seq: 'asc' },
          select: { type: true, key: true, payload: true },
        }),
      );
    },
    async stop() {
      await server.stop();
      await db.$disconnect();
    },
  };
}

export const codes = (r: GqlResult<unknown>): unknown[] => (r.errors ?? []).map((e) => e.extensions?.['code']);
export const fields = (r: GqlResult<unknown>): unknown[] => (r.errors ?? []).map((e) => e.extensions?.['field']);
