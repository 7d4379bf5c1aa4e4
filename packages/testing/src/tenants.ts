import { randomBytes } from 'node:crypto';
import { withPlatform, type Db } from '@lt/db';

export interface TestTenant {
  id: string;
  slug: string;
  name: string;
}

/** A name no other test (or run) uses: tenants, topics, consumer groups, emails. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Creates a fresh ACTIVE tenant through the platform path (so RLS is exercised, not bypassed). */
export async function createTestTenant(db: Db, prefix = 'tenant'): Promise<TestTenant> {
  const slug = uniqueName(prefix).toLowerCase().slice(0, 40);
  return withPlatform(db, (tx) =>
    tx.tenant.create({ data: { name: `Test ${slug}`, slug }, select: { id: true, slug: true, name: true } }),
  );
}
