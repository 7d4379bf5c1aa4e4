import { randomUUID } from 'node:crypto';
import type { Membership } from '@lt/context';

export { subgraphClient, type SubgraphResult as Result } from '@lt/testing';
import type { SubgraphResult as Result } from '@lt/testing';

export const codeOf = (r: Result<unknown>) => r.errors?.[0]?.extensions?.['code'];
export const fieldOf = (r: Result<unknown>) => r.errors?.[0]?.extensions?.['field'];

/** A membership for a tenant (no users row needed: the subgraph trusts the signed context). */
export const member = (tenantId: string | null, role: Membership['role']): Membership => ({
  userId: randomUUID(),
  sub: randomUUID(),
  tenantId,
  role,
  tenantStatus: tenantId ? 'ACTIVE' : null,
});
